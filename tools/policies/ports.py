"""What the policy tool needs from a knowledge base; the composition root plugs one in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class PolicyPassage:
    """A cited passage: the quoted text and where it comes from."""

    doc_id: str
    title: str
    section: str
    source: str
    text: str
    score: float = 0.0


@dataclass(frozen=True)
class PolicyAnswer:
    """The knowledge base's answer: quotes that answer the question, or covered=False."""

    covered: bool
    quotes: list[PolicyPassage] = field(default_factory=list)
    passages: list[PolicyPassage] = field(default_factory=list)


class PolicyLookup(Protocol):
    """Answers a policy question for someone with these roles (audience filtering happens inside)."""

    def lookup(self, question: str, *, roles: frozenset[str], k: int) -> PolicyAnswer:
        """Return the answer to `question` from documents visible to `roles`."""
        ...
