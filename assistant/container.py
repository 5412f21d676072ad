"""The composition root: builds the engine, sessions, registry and pipeline from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.orm import Session, sessionmaker

from assistant.dialogue.engine import OfflineEngine
from assistant.knowledge_base import KnowledgeLookup
from assistant.nlu.router import build_router
from assistant.settings import Settings
from tools.approvals.policy import ApprovalPolicy, load_policy
from tools.catalog import CatalogChanges, create_default_catalog
from tools.db import build_session_factory, create_db_engine, transaction
from tools.pipeline import Pipeline
from tools.registry import build_registry


@dataclass
class Container:
    """Everything a caller needs to serve requests, built once per process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    policy: ApprovalPolicy
    pipeline: Pipeline
    knowledge: KnowledgeLookup
    offline_engine: OfflineEngine

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def build_container(settings: Settings) -> Container:
    """Wire the application from settings (no schema changes; see `initialize_database`)."""
    if not settings.database_url:
        settings.backoffice_home.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.resolved_database_url)
    session_factory = build_session_factory(engine)
    policy = load_policy(settings.policy_file)
    knowledge = KnowledgeLookup(settings)
    pipeline = Pipeline(registry=build_registry(), session_factory=session_factory, policy=policy,
                        default_timezone=settings.timezone, knowledge=knowledge, receipt_exists=receipt_checker(settings))
    offline = OfflineEngine(pipeline=pipeline, session_factory=session_factory, router_factory=lambda: build_router(settings.cache_dir),
                            ttl=timedelta(minutes=settings.conversation_ttl_minutes), default_currency=policy.company_currency)
    return Container(settings=settings, engine=engine, session_factory=session_factory, policy=policy, pipeline=pipeline,
                     knowledge=knowledge, offline_engine=offline)


def receipt_checker(settings: Settings) -> Callable[[str], bool]:
    """Return a check that a receipt reference ("uploads/<hash>.pdf") names a file in the uploads folder."""
    def exists(reference: str) -> bool:
        path = (settings.backoffice_home / reference).resolve()
        return path.parent == settings.uploads_dir.resolve() and path.is_file()

    return exists


def schema_is_missing(container: Container) -> bool:
    """Return True when `backoffice init` has not created the tables yet (a missing SQLite file is not created)."""
    url = container.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and not Path(url.database).exists():
        return True
    return not inspect(container.engine).has_table("alembic_version")


def initialize_database(container: Container) -> CatalogChanges:
    """Create or upgrade the schema and add the default catalog; idempotent."""
    from tools.migrate import upgrade_database  # alembic is only needed here; keep other commands fast

    upgrade_database(container.settings.resolved_database_url)
    with transaction(container.session_factory) as session:
        return create_default_catalog(session, catalog_file=container.settings.catalog_file)
