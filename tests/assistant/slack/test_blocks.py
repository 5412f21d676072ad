"""Block Kit limits: whatever a request holds, a card Slack would refuse (invalid_blocks) is never built."""

from __future__ import annotations

from typing import Any

from assistant.approval_cards import Card
from assistant.slack.blocks import MAX_FIELD, MAX_SECTION, card_blocks, fitted


def _texts(blocks: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    sections = [block["text"]["text"] for block in blocks if block["type"] == "section" and "text" in block]
    fields = [field["text"] for block in blocks for field in block.get("fields", [])]
    return sections, fields


def test_a_long_justification_fits_in_its_field_escaped() -> None:
    card = Card(card_id=1, approval_id=22, step=1, steps=1, kind="access", summary="Omar: access to " + "<&>" * 1500,
                facts={"system": "GitHub", "access_level": "admin", "justification": "<" * 700 + "x" * 1300},
                requester="Omar Haddad", approver_chat_id="U1", note="")
    sections, fields = _texts(card_blocks(card))
    assert all(len(text) <= MAX_SECTION for text in sections) and all(len(text) <= MAX_FIELD for text in fields)
    why = next(text for text in fields if text.startswith("*Why*"))
    assert why.endswith("…") and why.startswith("*Why*\n&lt;&lt;")


def test_a_cut_never_splits_an_entity() -> None:
    assert fitted("ab&amp;cd", 5) == "ab…"
    assert fitted("short", 5) == "short"
