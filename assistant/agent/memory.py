"""Conversation memory of the agent: messages to and from JSON, and a bounded history."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, messages_from_dict, messages_to_dict


def dump_messages(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """Return the messages as JSON-able dicts for the conversation row."""
    return messages_to_dict(messages)


def load_messages(raw: list[dict[str, Any]]) -> list[BaseMessage]:
    """Return the stored messages; an unreadable history is dropped rather than failing the turn."""
    try:
        return list(messages_from_dict(raw))
    except (KeyError, TypeError, ValueError):
        return []


def bounded(messages: list[BaseMessage], limit: int) -> list[BaseMessage]:
    """Keep at most `limit` messages, starting at a person's message so no tool result loses its call."""
    if len(messages) <= limit:
        return messages
    tail = messages[-limit:]
    for index, message in enumerate(tail):
        if isinstance(message, HumanMessage):
            return tail[index:]
    return []
