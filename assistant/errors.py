"""Errors become user text here, at one edge; unknown errors are logged with an id the user sees."""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from knowledge.errors import KnowledgeError
from tools.errors import ToolError

log = logging.getLogger("backoffice")


class AssistantErrorCode(StrEnum):
    """Why the assistant core refused something."""

    UNKNOWN_USER = "unknown_user"
    BAD_FILE = "bad_file"
    NOT_CONFIGURED = "not_configured"
    CHAT_UNAVAILABLE = "chat_unavailable"  # the chat service could not answer just now: try again


class AssistantError(Exception):
    """A refusal by the assistant core, safe to show to the person who asked."""

    def __init__(self, code: AssistantErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


REFUSALS = (ToolError, AssistantError, KnowledgeError)


def error_text(error: BaseException) -> str:
    """Return what the person should read for this error, logging unexpected ones with an id."""
    if isinstance(error, REFUSALS):
        return error.message
    error_id = uuid.uuid4().hex[:8]
    log.error("unexpected error %s", error_id, exc_info=error)
    return f"Something went wrong on our side (error id {error_id}). Nothing was changed; please try again or tell IT."


def is_refusal(error: BaseException) -> bool:
    """Return True for errors that are expected refusals rather than faults."""
    return isinstance(error, REFUSALS)
