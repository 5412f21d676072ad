"""Socket Mode without a network: envelopes handed to the real SocketModeHandler, answers recorded."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from slack_sdk.socket_mode.request import SocketModeRequest

from assistant.container import build_container
from assistant.slack.app import build_app
from assistant.slack.server import socket_mode_handler
from tests.assistant.slack.conftest import SLACK_IDS, dm_event, wait_for
from tests.assistant.slack.fake_slack import FakeSlack
from tests.builders import make_company
from tests.conftest import make_settings
from tools.catalog import create_default_catalog
from tools.db import transaction


class RecordingSocket:
    """Stands in for the WebSocket client: keeps the acknowledgements the handler sends back."""

    def __init__(self) -> None:
        self.responses: list[Any] = []
        self.logger = logging.getLogger("socket-test")

    def send_socket_mode_response(self, response: Any) -> None:
        self.responses.append(response)


def test_socket_mode_acks_and_answers_once(database_url: str, tmp_path: Path) -> None:
    slack = FakeSlack()
    settings = make_settings(database_url, tmp_path / "home", SLACK_BOT_TOKEN="xoxb-test", SLACK_APP_TOKEN="xapp-test",
                             SLACK_API_URL=slack.base_url)
    container = build_container(settings)
    try:
        with transaction(container.session_factory) as session:
            create_default_catalog(session)
        company = make_company(container)
        slack.emails[SLACK_IDS["requester"]] = company.email("requester")
        handler = socket_mode_handler(build_app(container, engine=container.offline_engine), "xapp-test")
        socket = RecordingSocket()
        payload = dm_event("UREQ", "how many vacation days do I have left?", "EvSock1")
        handler.handle(socket, SocketModeRequest(type="events_api", envelope_id="env-1", payload=payload))
        handler.handle(socket, SocketModeRequest(type="events_api", envelope_id="env-2", payload=payload, retry_attempt=1,
                                                 retry_reason="timeout"))
        assert [response.envelope_id for response in socket.responses] == ["env-1", "env-2"]  # both acknowledged
        update = wait_for(lambda: slack.of("chat.update"))
        assert "25 days available" in update[0].args["text"]
        time.sleep(0.3)
        assert len(slack.of("chat.postMessage")) == 1  # the retry had no second effect
    finally:
        container.close()
        slack.close()
