"""The domain's single error type: every refusal carries a code and a message a person can read."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Why a domain operation was refused."""

    INVALID_INPUT = "invalid_input"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    LIMIT_EXCEEDED = "limit_exceeded"
    ALREADY_DECIDED = "already_decided"
    UNKNOWN_TOOL = "unknown_tool"
    CONFIGURATION = "configuration"


class ToolError(Exception):
    """A refusal by the domain layer, safe to show to the person who asked."""

    def __init__(self, code: ErrorCode, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}

    def __str__(self) -> str:
        return self.message
