"""Slack ack latency under a steady load, and exactly-once handling of Slack's retries, over signed HTTP.

    .venv/bin/python bench/slack_load.py [--events 500] [--rate 50] [--retries-share 0.1] [--database-url URL]
                                         [--api-latency-ms 0]

Our App is served the way `backoffice serve --mode http` serves it (`build_app` + `wsgi_application` under
waitress on 127.0.0.1, as many threads as `serve_http`), with the sample company and its policies, the
offline engine, SQLite in a temporary BACKOFFICE_HOME (or a scratch schema of `--database-url`), and a fake
Slack Web API (optionally as slow as Slack's). Signed `message.im` events go out at a steady rate from a
pool of sender threads (open loop: a slow ack never delays the next send); a share of them is sent again as
Slack's retries (X-Slack-Retry-Num 1..3, the same body, a fresh signature), some while the first delivery is
still in flight. The senders run in a process of their own, as Slack is not in ours; the App, its waitress
threads and the fake Web API share this one. Each event is a message in its own DM thread (as in Slack's
assistant split view), so its placeholder names it by thread_ts and a second answer to one event cannot hide
behind another event's missing one.

Printed per target: ack latency (time to HTTP 200, what Slack's 3-second limit is about), how many events were
answered and how fast (answers run after the ack, in bolt's thread pool), and events handled more than once.
The same load then goes to a bare bolt App (one chat.postMessage per message, no database, no deduplication)
behind the same waitress setup, and the ack ratio ours/bare is printed. Exit code 1 when an event was
answered twice or not at all, or an ack was not HTTP 200.
"""

from __future__ import annotations

import argparse
import http.client
import inspect
import json
import logging
import multiprocessing
import os
import platform
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import slack_bolt
from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, text
from waitress.server import create_server

from assistant.chat import database_ok
from assistant.container import build_container, initialize_database
from assistant.demo import load_sample_policies, seed_sample_company
from assistant.settings import Settings
from assistant.slack.app import build_app
from assistant.slack.server import EVENTS_PATH, serve_http, wsgi_application
from tools.db import normalize_url

SECRET = "bench-signing-secret"
SENDERS = [f"U0HP{number:05d}" for number in range(1, 14)]  # the sample company's Slack ids
SERVE_THREADS = inspect.signature(serve_http).parameters["threads"].default  # waitress threads, as in production
SENDER_THREADS = 32
WARMUP_EVENTS = 10
ACK_P99_TARGET_MS = 300.0
ERROR_REPLY = "Something went wrong on our side"  # how assistant.errors.error_text starts an unexpected fault


def message_text(index: int, today: date) -> str:
    """Return the index-th message of a realistic mix: balance, leave request, policy, help, out of scope."""
    monday = today + timedelta(days=28 - today.weekday() + 7 * (index % 40))
    return [
        "how many vacation days do I have left?",
        f"I need {monday:%b} {monday.day} to {monday + timedelta(days=2):%b} {(monday + timedelta(days=2)).day} off",
        "what is the hotel budget per night on a business trip?",
        "help",
        "what is the weather in Rome tomorrow?",
    ][index % 5]


def dm_event(serial: int, today: date) -> bytes:
    """Return a message.im event, in its own DM thread, as Slack sends it."""
    user = SENDERS[serial % len(SENDERS)]
    thread_ts, ts = f"{1790000000 + serial}.000100", f"{1790000000 + serial}.000200"
    payload = {"token": "verification_token", "team_id": "T111", "api_app_id": "A111", "type": "event_callback",
               "event_id": f"Ev{serial:08d}", "event_time": 1790000000 + serial,
               "authorizations": [{"team_id": "T111", "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}],
               "event": {"type": "message", "user": user, "text": message_text(serial, today), "ts": ts, "event_ts": ts,
                         "thread_ts": thread_ts, "team": "T111", "channel": f"D{user}", "channel_type": "im"}}
    return json.dumps(payload).encode()


class FakeWebApi:
    """A Slack Web API on 127.0.0.1 that counts, per DM thread, the messages posted and the updates made."""

    def __init__(self, latency_seconds: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.posted: dict[str, int] = {}  # thread_ts -> chat.postMessage calls in that thread
        self.updated: dict[str, int] = {}  # thread_ts -> chat.update calls of messages in that thread
        self.first_post: dict[str, float] = {}
        self.first_update: dict[str, float] = {}
        self.thread_of: dict[str, str] = {}  # message ts -> its thread_ts
        self.unthreaded = self.error_replies = 0
        self._serial = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                args = json.loads(raw or "{}") if "json" in (self.headers.get("Content-Type") or "") else \
                    {key: values[0] for key, values in parse_qs(raw).items()}
                if latency_seconds:
                    time.sleep(latency_seconds)
                body = json.dumps(fake.answer(self.path.rsplit("/", 1)[-1], args)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Count the call and return what Slack would."""
        now = time.perf_counter()
        with self.lock:
            self._serial += 1
            ts = f"1700000000.{self._serial:06d}"
            if method == "chat.postMessage":
                thread = str(args.get("thread_ts") or "")
                if not thread:
                    self.unthreaded += 1
                self.thread_of[ts] = thread
                self.posted[thread] = self.posted.get(thread, 0) + 1
                self.first_post.setdefault(thread, now)
            elif method == "chat.update":
                thread = self.thread_of.get(str(args.get("ts")), "")
                self.updated[thread] = self.updated.get(thread, 0) + 1
                self.first_update.setdefault(thread, now)
                self.error_replies += ERROR_REPLY in str(args.get("text", ""))
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T111", "user": "backoffice"}
        if method in ("chat.postMessage", "chat.update"):
            return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts") or ts}
        if method == "users.info":
            return {"ok": False, "error": "user_not_found"}  # every sender is in the directory by Slack id
        return {"ok": True}

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


class WaitressQueue(logging.Handler):
    """Count waitress's "Task queue depth is N" warnings: requests that found every waitress thread busy."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.waits = self.deepest = 0

    def emit(self, record: logging.LogRecord) -> None:
        words = record.getMessage().split()
        if words[:4] == ["Task", "queue", "depth", "is"]:
            self.waits, self.deepest = self.waits + 1, max(self.deepest, int(words[4]))

    @contextmanager
    def counting(self) -> Iterator[WaitressQueue]:
        """Count instead of printing while the block runs."""
        queue_log = logging.getLogger("waitress.queue")
        queue_log.addHandler(self)
        queue_log.propagate = False
        try:
            yield self
        finally:
            queue_log.removeHandler(self)
            queue_log.propagate = True


@dataclass(frozen=True)
class Send:
    """One delivery of an event: when (seconds after the start), which event, and Slack's retry number."""

    at: float
    serial: int
    retry: int


@dataclass
class LoadResult:
    """What the senders saw: one (retry number, HTTP status, seconds to the response) per request."""

    acks: list[tuple[int, int, float]] = field(default_factory=list)
    first_sent: dict[int, float] = field(default_factory=dict)  # serial -> perf_counter (system-wide) of its first delivery
    max_lag: float = 0.0  # how late a send started against its schedule
    duration: float = 0.0


def plan(serials: list[int], rate: float, retries_share: float, rng: random.Random) -> list[Send]:
    """Return the sends: one event every 1/rate s, and Slack-like retries of a share of them, in time order."""
    sends = [Send(position / rate, serial, 0) for position, serial in enumerate(serials)]
    for send in rng.sample(sends, round(retries_share * len(sends))):
        at = send.at
        for retry in range(1, rng.randint(1, 3) + 1):
            at += rng.uniform(0.0, 0.4)  # the first retry may overlap the first delivery: the race to win
            sends.append(Send(at, send.serial, retry))
    return sorted(sends, key=lambda send: send.at)


def post(port: int, body: bytes, retry: int) -> tuple[int, float]:
    """POST one event signed like Slack signs it; return the status and the seconds until the response."""
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)}
    if retry:
        headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", EVENTS_PATH, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    finally:
        connection.close()


def run_load(port: int, bodies: dict[int, bytes], sends: list[Send]) -> LoadResult:
    """Send on schedule from a pool of sender threads; the schedule never waits for an ack."""
    result = LoadResult()
    lock = threading.Lock()
    start = time.perf_counter() + 0.05

    def deliver(send: Send) -> None:
        began = time.perf_counter()
        status, seconds = post(port, bodies[send.serial], send.retry)
        with lock:
            result.max_lag = max(result.max_lag, began - (start + send.at))
            result.acks.append((send.retry, status, seconds))
            if not send.retry:
                result.first_sent[send.serial] = began

    with ThreadPoolExecutor(max_workers=SENDER_THREADS, thread_name_prefix="sender") as pool:
        for send in sends:
            delay = start + send.at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(deliver, send)
        result.duration = time.perf_counter() - start  # the schedule's span; the pool then waits for the last acks
    return result


@contextmanager
def served(app: App, health: Callable[[], bool]) -> Iterator[int]:
    """Serve the App with waitress on 127.0.0.1, as `serve_http` does; yield the port."""
    server = create_server(wsgi_application(app, health), host="127.0.0.1", port=0, threads=SERVE_THREADS,
                           ident="backoffice-assistant")
    threading.Thread(target=server.run, daemon=True).start()
    try:
        yield int(server.effective_port)  # type: ignore[union-attr]
    finally:
        server.close()


@contextmanager
def scratch_database(url: str | None) -> Iterator[str | None]:
    """Yield the database URL to use: None (SQLite in BACKOFFICE_HOME) or a scratch PostgreSQL schema."""
    if not url:
        yield None
        return
    schema = f"bench_slack_{os.getpid()}"
    admin = create_engine(normalize_url(url))
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
    try:
        yield f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


@contextmanager
def our_app(database_url: str | None, api_url: str) -> Iterator[tuple[App, Callable[[], bool], str]]:
    """Yield our App on the sample company and policies, its health check, and a label for the database."""
    with tempfile.TemporaryDirectory(prefix="bench-slack-") as folder, scratch_database(database_url) as url:
        settings = Settings(_env_file=None, BACKOFFICE_HOME=Path(folder) / "home", DATABASE_URL=url,  # type: ignore[call-arg]
                            SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=api_url)
        container = build_container(settings)
        try:
            initialize_database(container)
            seed_sample_company(container)
            load_sample_policies(container)
            container.offline_engine.router.classifier.prepare()  # as `serve` does: the model loads before traffic
            label = "PostgreSQL" if url else "SQLite (file, WAL)"
            yield build_app(container, engine=container.offline_engine), lambda: database_ok(container), label
        finally:
            container.close()


def bare_app(api_url: str) -> App:
    """Return a bolt App that answers each message with one chat.postMessage: no database, no deduplication."""
    app = App(signing_secret=SECRET, client=WebClient(token="xoxb-bench", base_url=api_url), token_verification_enabled=False)

    @app.event("message")
    def on_message(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postMessage(channel=event["channel"], thread_ts=event.get("thread_ts"), text="ok")

    return app


def wait_answered(answered: Callable[[], int], expected: int, timeout: float) -> None:
    """Wait until `expected` events are answered (listeners run after the ack), then a little longer for strays."""
    deadline = time.monotonic() + timeout
    while answered() < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)  # a late second answer to an event would land now


def percentile_ms(values: list[float], fraction: float) -> float:
    """Return the value at `fraction` (nearest rank) in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else float("nan")


@dataclass(frozen=True)
class Outcome:
    """One target's ack latencies (seconds) and whether it kept its promises."""

    ack: list[float]
    ok: bool


def measure(name: str, app: App, health: Callable[[], bool], api: FakeWebApi, args: argparse.Namespace, *,
            answered_at: dict[str, float], exactly_once: bool) -> Outcome:
    """Warm up, send the load, wait for the answers, print the figures, and judge exactly-once."""
    today, rng = date.today(), random.Random(7)
    spawn = multiprocessing.get_context("spawn")
    with served(app, health) as port, ProcessPoolExecutor(1, mp_context=spawn) as senders, WaitressQueue().counting() as queue:
        warm = list(range(WARMUP_EVENTS))  # auth.test, model, index, date parser: paid before the clock starts
        for serial in warm:
            post(port, dm_event(serial, today), 0)
        wait_answered(lambda: len(answered_at), len(warm), 60.0)
        senders.submit(time.sleep, 0).result()  # the sender process is up before the clock starts
        serials = list(range(WARMUP_EVENTS, WARMUP_EVENTS + args.events))
        bodies = {serial: dm_event(serial, today) for serial in serials}
        load = senders.submit(run_load, port, bodies, plan(serials, args.rate, args.retries_share, rng)).result()
        threads = {serial: f"{1790000000 + serial}.000100" for serial in serials}
        wait_answered(lambda: sum(1 for thread in threads.values() if thread in answered_at), len(serials), 180.0)
    return report(name, api, load, threads, answered_at, exactly_once, queue)


def report(name: str, api: FakeWebApi, load: LoadResult, threads: dict[int, str], answered_at: dict[str, float],
           exactly_once: bool, queue: WaitressQueue) -> Outcome:
    """Print one target's figures and return whether it kept its promises."""
    ack = [seconds for _retry, _status, seconds in load.acks]
    retried = [seconds for retry, _status, seconds in load.acks if retry]
    bad_status = sum(1 for _retry, status, _seconds in load.acks if status != 200)
    answered = [thread for thread in threads.values() if thread in answered_at]
    posted = sum(api.posted.get(thread, 0) for thread in threads.values())
    updated = sum(api.updated.get(thread, 0) for thread in threads.values())
    duplicates = sum(1 for thread in threads.values() if api.posted.get(thread, 0) > 1 or api.updated.get(thread, 0) > 1)
    reply = [answered_at[thread] - load.first_sent[serial] for serial, thread in threads.items()
             if thread in answered_at and serial in load.first_sent]
    last = max((answered_at[thread] for thread in answered), default=0.0)
    span = last - min(load.first_sent.values()) if answered else float("nan")
    print(f"\n{name}  (load average {os.getloadavg()[0]:.2f})")
    print(f"  sent               {len(threads)} events + {len(retried)} retries in {load.duration:.1f} s "
          f"(schedule lag max {1000 * load.max_lag:.1f} ms)")
    print(f"  ack latency        p50 {percentile_ms(ack, 0.5):.1f} ms  p95 {percentile_ms(ack, 0.95):.1f} ms  "
          f"p99 {percentile_ms(ack, 0.99):.1f} ms  max {percentile_ms(ack, 1.0):.1f} ms  "
          f"(retries alone p99 {percentile_ms(retried, 0.99):.1f} ms)")
    print(f"  non-200 acks       {bad_status}; requests that found all {SERVE_THREADS} waitress threads busy: "
          f"{queue.waits} (queue up to {queue.deepest})")
    print(f"  handled            {len(answered)} of {len(threads)} events; {len(answered) / span:.1f} events/s answered; "
          f"send to answer p50 {percentile_ms(reply, 0.5):.0f} ms  p99 {percentile_ms(reply, 0.99):.0f} ms")
    print(f"  duplicates         {duplicates} events handled more than once (messages posted {posted}, updated {updated}, "
          f"fault replies {api.error_replies}, posted outside a thread {api.unthreaded})"
          + ("" if exactly_once else "; bolt alone does not deduplicate retries"))
    ok = bad_status == 0 and (not exactly_once or (duplicates == 0 and len(answered) == len(threads)))
    return Outcome(ack, ok)


def parse_args() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="unique events to send")
    parser.add_argument("--rate", type=float, default=50.0, help="events per second (retries come on top)")
    parser.add_argument("--retries-share", type=float, default=0.1, help="share of events sent again (1 to 3 retries)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (a scratch schema is made); default SQLite")
    parser.add_argument("--api-latency-ms", type=float, default=0.0, help="delay of each fake Web API call (Slack: ~100)")
    return parser.parse_args()


def main() -> int:
    """Run the load against our App, then against a bare bolt App; print the figures and the ratio."""
    args = parse_args()
    latency = args.api_latency_ms / 1000
    print(f"Python {platform.python_version()}, slack-bolt {slack_bolt.version.__version__}, {os.cpu_count()} CPUs; "
          f"{args.events} events at {args.rate:g}/s, {args.retries_share:.0%} retried; waitress {SERVE_THREADS} threads, "
          f"{SENDER_THREADS} sender threads in their own process, Web API latency {args.api_latency_ms:g} ms; "
          f"load average before {os.getloadavg()[0]:.2f} (other work on this machine skews every figure)")
    ours_api = FakeWebApi(latency)
    try:
        with our_app(args.database_url, ours_api.base_url) as (app, health, label):
            ours = measure(f"ours: build_app, offline engine, {label}", app, health, ours_api, args,
                           answered_at=ours_api.first_update, exactly_once=True)
    finally:
        ours_api.close()
    bare_api = FakeWebApi(latency)
    try:
        bare = measure("bare bolt App: one chat.postMessage per message", bare_app(bare_api.base_url), lambda: True, bare_api,
                       args, answered_at=bare_api.first_post, exactly_once=False)
    finally:
        bare_api.close()
    p50 = percentile_ms(ours.ack, 0.5) / percentile_ms(bare.ack, 0.5)
    p99 = percentile_ms(ours.ack, 0.99) / percentile_ms(bare.ack, 0.99)
    target = percentile_ms(ours.ack, 0.99) < ACK_P99_TARGET_MS
    print(f"\nack ratio ours/bare  p50 {p50:.2f}x  p99 {p99:.2f}x")
    print(f"target ack p99 < {ACK_P99_TARGET_MS:.0f} ms at {args.rate:g}/s: {'met' if target else 'MISSED'}; "
          f"exactly-once: {'held' if ours.ok else 'VIOLATED'}")
    return 0 if ours.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
