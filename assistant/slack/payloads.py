"""Reading Slack's requests defensively: the JSON in a body, a button's value or a modal's metadata; fields of any shape."""

from __future__ import annotations

import json
from typing import Any


def json_object(raw: object) -> dict[str, Any]:
    """Return the JSON object in raw; {} for anything else (a form body, a list, broken JSON, nothing at all)."""
    if not isinstance(raw, (str, bytes)):
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:  # JSONDecodeError and undecodable bytes alike
        return {}
    return parsed if isinstance(parsed, dict) else {}


def as_object(raw: object) -> dict[str, Any]:
    """Return raw when it is a JSON object (a dict), else {}: a payload field of the wrong shape names nothing."""
    return raw if isinstance(raw, dict) else {}


def as_text(raw: object) -> str | None:
    """Return raw when it is a non-empty string, else None: an id of the wrong shape is no id."""
    return raw if isinstance(raw, str) and raw else None
