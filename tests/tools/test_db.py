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


def test_the_migrations_build_exactly_the_schema_of_the_models(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from tools.db import Base

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.skipif(using_postgres(), reason="changes the schema under the other test worker on the shared PostgreSQL database")
def test_an_upgrade_counts_earlier_decisions_as_already_told(container: Container) -> None:
    from alembic import command

    from assistant.approval_cards import claim_settled
    from tests.builders import run
    from tools.migrate import alembic_config

    company = make_company(container)
    decided = run(container, "request_leave", {"start_date": "2027-01-11", "end_date": "2027-01-12"}, company.requester)
    run(container, "decide_approval", {"approval_id": decided["approval_id"], "decision": "approve"}, company.manager)
    waiting = run(container, "request_leave", {"start_date": "2027-02-08", "end_date": "2027-02-09"}, company.requester)
    config = alembic_config(container.settings.database_url)
    command.downgrade(config, "0003")  # a database from before cards were closed and requesters told by any path
    command.upgrade(config, "head")
    assert claim_settled(container).tell == []  # nothing old is sent after an upgrade
    run(container, "decide_approval", {"approval_id": waiting["approval_id"], "decision": "deny", "reason": "busy"}, company.manager)
    assert [outcome.reason for outcome in claim_settled(container).tell] == ["busy"]
    assert claim_settled(container).tell == []  # told once
