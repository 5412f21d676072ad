"""What the assistant says back for one turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """The text for the person, the intent it served, and the data of any tool it ran."""

    text: str
    intent: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    wrote: bool = False
    meta: dict[str, Any] = field(default_factory=dict)  # how the turn went: model calls, tokens, degraded
