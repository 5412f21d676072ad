"""Transactions: a read-only one (a slow policy search) never holds SQLite's write lock."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from assistant.container import Container
from tests.builders import make_company
from tests.conftest import using_postgres
from tools.audit.models import AuditRecord
from tools.db import run_in_transaction


@pytest.mark.skipif(using_postgres(), reason="PostgreSQL has no database-wide write lock")
def test_a_write_goes_through_while_a_read_only_transaction_is_open(container: Container) -> None:
    company = make_company(container)

    def read_then_let_someone_write(session) -> int:  # type: ignore[no-untyped-def]
        before = int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0)
        container.pipeline.run("create_ticket", {"summary": "printer jam"}, actor_id=company.requester)  # its own transaction
        return before

    before = run_in_transaction(container.session_factory, read_then_let_someone_write, read_only=True)
    after = run_in_transaction(container.session_factory,
                               lambda session: int(session.scalar(select(func.count()).select_from(AuditRecord)) or 0))
    assert after == before + 1


def test_search_policies_runs_read_only() -> None:
    from tools.registry import build_registry

    registry = build_registry()
    assert registry["search_policies"].read_only
    assert not any(spec.read_only and spec.writes for spec in registry.values())
