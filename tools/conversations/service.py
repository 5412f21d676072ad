"""Loading and saving dialogue state; state older than the time-to-live is forgotten."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.conversations.models import Conversation


def get_conversation_state(session: Session, *, key: str, employee_id: int, now: datetime, ttl: timedelta) -> tuple[dict[str, Any], bool]:
    """Return (state, expired): the saved state, or an empty one when none is saved or it has expired."""
    conversation = session.scalar(select(Conversation).where(Conversation.key == key))
    if conversation is None or conversation.employee_id != employee_id:
        return {}, False
    if now - conversation.updated_at > ttl:
        return {}, bool(conversation.state)
    return dict(conversation.state), False


def record_conversation_state(session: Session, *, key: str, employee_id: int, state: dict[str, Any], now: datetime) -> None:
    """Save the state of a conversation (one row per conversation key and employee)."""
    conversation = session.scalar(select(Conversation).where(Conversation.key == key).with_for_update())
    if conversation is None:
        session.add(Conversation(key=key, employee_id=employee_id, state=state, updated_at=now))
    else:
        conversation.employee_id = employee_id
        conversation.state = state
        conversation.updated_at = now
    session.flush()


def conversation_exists(session: Session, *, keys: tuple[str, ...]) -> bool:
    """Return True when any of these conversation keys has saved state (the assistant takes part in it)."""
    return session.scalar(select(Conversation.id).where(Conversation.key.in_(keys)).limit(1)) is not None
