"""Choosing the conversation engine: the offline engine, or the LLM agent when an endpoint is configured."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from assistant.dialogue.reply import Reply

if TYPE_CHECKING:
    from assistant.container import Container

ENGINE_KINDS = ("auto", "offline", "llm")
# The LLM engine keeps its memory under this prefix of the conversation key (the offline engine uses the key itself).
AGENT_MEMORY_PREFIX = "agent:"


class ConversationEngine(Protocol):
    """Answers one message of a conversation as an employee; both engines have this shape."""

    def handle(self, *, key: str, actor_id: int, text: str, now: datetime | None = None) -> Reply: ...


def select_engine(container: Container, kind: str | None = None) -> ConversationEngine:
    """Return the engine `kind` asks for (default: BACKOFFICE_ENGINE; auto means the LLM when a key is set)."""
    wanted = (kind or container.settings.engine or "auto").lower()
    if wanted not in ENGINE_KINDS:
        raise ValueError(f"Unknown engine '{wanted}': use one of {', '.join(ENGINE_KINDS)}.")
    settings = container.settings
    if wanted == "offline" or (wanted == "auto" and not (settings.openai_api_key or settings.openai_base_url)):
        return container.offline_engine
    from assistant.agent.engine import build_llm_engine

    return build_llm_engine(container)
