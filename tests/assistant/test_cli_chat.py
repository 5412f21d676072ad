"""`backoffice chat`: one failing turn is answered with its reason and the conversation goes on; the terminal
shows no traceback (it goes to the log file)."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from assistant.cli import _WithoutTraceback
from assistant.cli_chat import converse
from assistant.container import Container
from assistant.dialogue.reply import Reply
from tests.builders import make_company


class FailsOnBoom:
    """An engine whose turn fails unexpectedly on the word 'boom'."""

    def handle(self, *, key: str, actor_id: int, text: str, **_: Any) -> Reply:
        if "boom" in text:
            raise RuntimeError("a bug")
        return Reply(f"echo: {text.strip()}")


def test_a_failing_turn_gets_its_reason_and_the_chat_goes_on(container: Container, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    make_company(container)
    monkeypatch.setattr("assistant.engines.select_engine", lambda container: FailsOnBoom())
    converse(container, "requester@example.com", as_json=True, lines=["hello", "boom", "still there?"])
    replies = [json.loads(line)["reply"] for line in capsys.readouterr().out.splitlines()]
    assert replies[0] == "echo: hello" and "error id" in replies[1] and replies[2] == "echo: still there?"


def test_the_terminal_log_line_has_no_traceback() -> None:
    try:
        raise RuntimeError("a bug")
    except RuntimeError as error:
        record = logging.LogRecord("backoffice", logging.ERROR, __file__, 1, "unexpected error %s", ("abc123",), (type(error), error, error.__traceback__))
    line = _WithoutTraceback("%(levelname)s %(message)s").format(record)
    assert line == "ERROR unexpected error abc123"
    assert "Traceback" in logging.Formatter("%(message)s").format(record)  # the log file keeps it


def test_chatting_through_a_model_readies_the_offline_fallback_at_once(container: Container,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    make_company(container)
    readied = threading.Event()
    monkeypatch.setattr("assistant.engines.select_engine", lambda container: FailsOnBoom())  # stands for the LLM engine
    monkeypatch.setattr(type(container.offline_engine.router.classifier), "prepare", lambda self: readied.set())
    converse(container, "requester@example.com", as_json=True, lines=[])
    assert readied.wait(5)  # before the endpoint can fail, not on the turn that falls back
