"""Plain data passed between loading, chunking, indexing and search."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Section:
    """A run of text under one heading path, e.g. ("Time off", "Holidays")."""

    heading_path: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class LoadedDocument:
    """A document as read from disk: its title, its sections in order, and front matter if any."""

    title: str
    sections: list[Section]
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage with the heading path it came from ("Time off > Holidays")."""

    ordinal: int
    section: str
    text: str
