"""(being written)"""

from __future__ import annotations

from slack_bolt import App

from assistant.slack.deps import SlackDeps


def register(app: App, deps: SlackDeps) -> None:
    """Register this feature's listeners."""
