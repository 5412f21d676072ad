"""Reading the JSON inside Slack's requests: an Events API body, a button's value, a modal's private metadata."""

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
