"""Benchmark: tool calls per second through the full pipeline, on SQLite and on PostgreSQL.

Every call goes the whole way a Slack or CLI call goes: look up, validate, authorize, execute in its own
transaction, audit. One caller, one thread: this measures per-call cost, not concurrency.

    .venv/bin/python bench/pipeline.py [--calls 500] [--db sqlite|postgres|both] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy
from sqlalchemy import create_engine, text

from assistant.container import Container, build_container, initialize_database
from assistant.settings import Settings
from tools.db import normalize_url, transaction
from tools.people.models import Employee, Role

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
WARMUP_CALLS = 20


@dataclass(frozen=True)
class Measurement:
    """Timings of one tool on one database."""

    database: str
    tool: str
    latencies: list[float]

    @property
    def seconds(self) -> float:
        """Return the total time spent inside the calls."""
        return sum(self.latencies)

    def percentile_ms(self, fraction: float) -> float:
        """Return the latency at `fraction` (nearest rank) in milliseconds."""
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@contextmanager
def sqlite_deployment() -> Iterator[Container]:
    """Yield a migrated deployment on a SQLite file in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
        home = Path(folder) / "home"
        container = _deploy(home, f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            yield container
        finally:
            container.close()


@contextmanager
def postgres_deployment(base_url: str) -> Iterator[Container]:
    """Yield a migrated deployment in a scratch PostgreSQL schema that is dropped afterwards."""
    schema = f"bench_pipeline_{os.getpid()}"
    admin = create_engine(normalize_url(base_url))
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as folder:
            container = _deploy(Path(folder) / "home", f"{base_url}?options=-csearch_path%3D{schema}")
            try:
                yield container
            finally:
                container.close()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def _deploy(home: Path, database_url: str) -> Container:
    settings = Settings(_env_file=None, BACKOFFICE_HOME=home, DATABASE_URL=database_url)  # type: ignore[call-arg]
    container = build_container(settings)
    initialize_database(container)
    return container


def add_people(container: Container) -> tuple[int, int]:
    """Add a manager and one report; return (manager id, employee id)."""
    with transaction(container.session_factory) as session:
        manager = Employee(email="manager@example.com", name="Bench Manager", roles_text=f"{Role.EMPLOYEE};{Role.MANAGER}")
        session.add(manager)
        session.flush()
        employee = Employee(email="employee@example.com", name="Bench Employee", manager_id=manager.id)
        session.add(employee)
        session.flush()
        return manager.id, employee.id


def time_calls(call: Callable[[int], object], calls: int) -> list[float]:
    """Run `call(i)` for i in range(calls) after a warm-up; return each call's latency in seconds."""
    for index in range(WARMUP_CALLS):
        call(-1 - index)
    latencies = []
    for index in range(calls):
        started = time.perf_counter()
        call(index)
        latencies.append(time.perf_counter() - started)
    return latencies


def next_wednesday_next_year(today: date) -> date:
    """Return a working day safely in the future, away from public holidays."""
    day = date(today.year + 1, 3, 1)
    return day + timedelta(days=(2 - day.weekday()) % 7)


def measure(database: str, container: Container, calls: int) -> list[Measurement]:
    """Time a read tool, a write tool, and request/cancel pairs (a gated write and its undo)."""
    _manager, employee = add_people(container)
    run = container.pipeline.run
    balance = time_calls(lambda _i: run("get_leave_balance", {}, actor_id=employee), calls)
    ticket = time_calls(lambda i: run("create_ticket", {"summary": f"Bench ticket {i}"}, actor_id=employee), calls)
    day = next_wednesday_next_year(date.today()).isoformat()
    request_latencies: list[float] = []
    cancel_latencies: list[float] = []

    def request_then_cancel(_index: int) -> None:
        started = time.perf_counter()
        request_id = run("request_leave", {"start_date": day, "end_date": day}, actor_id=employee).data["request_id"]
        middle = time.perf_counter()
        run("cancel_leave", {"request_id": request_id}, actor_id=employee)
        request_latencies.append(middle - started)
        cancel_latencies.append(time.perf_counter() - middle)

    time_calls(request_then_cancel, calls)
    del request_latencies[:WARMUP_CALLS], cancel_latencies[:WARMUP_CALLS]
    return [
        Measurement(database, "get_leave_balance", balance),
        Measurement(database, "create_ticket", ticket),
        Measurement(database, "request_leave (+approval row)", request_latencies),
        Measurement(database, "cancel_leave", cancel_latencies),
    ]


def server_version(container: Container) -> str:
    """Return the database engine and its version."""
    if container.engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (file, WAL)"
    with container.engine.connect() as connection:
        return "PostgreSQL " + connection.execute(text("SHOW server_version")).scalar_one().split()[0]


def render(rows: list[Measurement]) -> str:
    """Return the results as a fixed-width table."""
    header = f"{'db':<10} {'tool':<30} {'calls':>6} {'seconds':>8} {'calls/s':>8} {'p50 ms':>7} {'p95 ms':>7}"
    lines = [header, "-" * len(header)]
    for row in rows:
        rate = len(row.latencies) / row.seconds
        lines.append(f"{row.database:<10} {row.tool:<30} {len(row.latencies):>6} {row.seconds:>8.2f} {rate:>8.0f} "
                     f"{row.percentile_ms(0.50):>7.2f} {row.percentile_ms(0.95):>7.2f}")
    return "\n".join(lines)


def parse_args() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500, help="timed calls per tool (after a short warm-up)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG_URL))
    return parser.parse_args()


def main() -> None:
    """Run the benchmark and print the table."""
    args = parse_args()
    deployments = {"sqlite": sqlite_deployment, "postgres": lambda: postgres_deployment(args.pg_url)}
    chosen = list(deployments) if args.db == "both" else [args.db]
    rows: list[Measurement] = []
    versions = []
    for database in chosen:
        with deployments[database]() as container:
            versions.append(server_version(container))
            rows.extend(measure(database, container, args.calls))
    print(f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, {', '.join(versions)}, "
          f"{os.cpu_count()} CPUs; one thread, each call its own transaction")
    print(render(rows))


if __name__ == "__main__":
    main()
