"""`backoffice serve --mode http` as a real process: health check, signatures, a DM answered through the Web API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.assistant.slack.conftest import SECRET, RunningApp, dm_event, wait_for
from tests.assistant.slack.fake_slack import FakeSlack

CONSOLE_SCRIPT = Path(sys.executable).parent / "backoffice"
PEOPLE = ("email,name,slack_user_id,manager_email,department,roles,country,start_date,annual_leave_days\n"
          "boss@acme.example,Bo Boss,U0BOSS,,Leadership,manager,US,2020-01-01,25\n"
          "emp@acme.example,Em Ploy,U0EMP,boss@acme.example,Engineering,employee,US,2021-01-01,25\n")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[RunningApp]:
    slack = FakeSlack()
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("OPENAI", "BACKOFFICE", "SLACK", "DATABASE")) or key == "BACKOFFICE_CACHE_DIR"}
    env.update(BACKOFFICE_HOME=str(tmp_path), DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET=SECRET,
               SLACK_API_URL=slack.base_url)
    (tmp_path / "people.csv").write_text(PEOPLE, encoding="utf-8")
    subprocess.run([str(CONSOLE_SCRIPT), "init"], env=env, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    subprocess.run([str(CONSOLE_SCRIPT), "people", "import", "people.csv"], env=env, cwd=tmp_path, check=True, capture_output=True,
                   timeout=60)
    process = subprocess.Popen([str(CONSOLE_SCRIPT), "serve", "--mode", "http", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _healthy(url), timeout=60)
        yield RunningApp(url, slack, None, None)  # type: ignore[arg-type]
    finally:
        process.terminate()
        process.wait(timeout=10)
        slack.close()


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
            return json.loads(response.read())["ok"] is True
    except (urllib.error.URLError, OSError):
        return False


def test_serve_answers_a_dm_and_refuses_unsigned_requests(served: RunningApp) -> None:
    assert served.event(dm_event("U0EMP", "how many vacation days do I have left?", "EvS1"), sign=False)[0] == 401
    assert served.event(dm_event("U0EMP", "how many vacation days do I have left?", "EvS1"))[0] == 200
    update = wait_for(lambda: served.slack.of("chat.update"))
    assert "25 days available" in update[0].args["text"]
