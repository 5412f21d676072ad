"""Fixtures of the LLM engine tests: the scripted OpenAI-compatible endpoint and the test company."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.container import Container
from assistant.eval.scripted_server import ScriptedOpenAI
from tests.builders import Company, make_company


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as running:
        yield running


@pytest.fixture
def company(container: Container) -> Company:
    return make_company(container)
