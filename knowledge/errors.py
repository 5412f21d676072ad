"""The knowledge package's single error type."""

from __future__ import annotations

from enum import StrEnum


class KnowledgeErrorCode(StrEnum):
    """Why a knowledge operation was refused."""

    NOT_FOUND = "not_found"
    UNSUPPORTED_TYPE = "unsupported_type"
    TOO_LARGE = "too_large"
    EMPTY = "empty"
    CORRUPT = "corrupt"
    NOT_UTF8 = "not_utf8"
    MODEL = "model"
    INDEX = "index"
    INVALID_INPUT = "invalid_input"


class KnowledgeError(Exception):
    """A refusal by the knowledge layer, safe to show to the person who asked."""

    def __init__(self, code: KnowledgeErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message
