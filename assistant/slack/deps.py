"""What the Slack listeners need from the core, built once per App."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tools.db import utcnow

if TYPE_CHECKING:
    from assistant.container import Container
    from assistant.engines import ConversationEngine


@dataclass
class SlackDeps:
    """The container, the conversation engine and the clock the listeners use."""

    container: Container
    engine: ConversationEngine
    clock: Callable[[], datetime] = field(default=utcnow)
