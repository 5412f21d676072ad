"""A fake Slack Web API on 127.0.0.1 that records every call and answers like Slack does."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    """One Web API call: the method name and its arguments."""

    method: str
    args: dict[str, Any]


@dataclass
class FakeSlack:
    """Records calls; `emails` answers users.info; `files` serves downloads by path."""

    emails: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)  # paths of the files fetched
    failing: set[str] = field(default_factory=set)  # methods that answer ok=false
    bare: set[str] = field(default_factory=set)  # methods that answer only {"ok": true}, as a minimal fake might
    missing: set[str] = field(default_factory=set)  # methods that answer 404 with a page, as a fake without them might
    # "method" or "method:channel" -> how many more calls get 429 ratelimited (Retry-After: 0) before answering
    rate_limited: dict[str, int] = field(default_factory=dict)
    slow: dict[str, float] = field(default_factory=dict)  # method -> seconds it takes to answer
    answering: dict[str, str] = field(default_factory=dict)  # method -> the error it answers (ok=false) instead

    def __post_init__(self) -> None:
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                if "json" in (self.headers.get("Content-Type") or ""):
                    args = json.loads(raw or "{}")
                else:
                    args = {key: values[0] for key, values in parse_qs(raw).items()}
                for name in ("blocks", "view"):
                    if isinstance(args.get(name), str):
                        args[name] = json.loads(args[name])
                method = self.path.rsplit("/", 1)[-1]
                if fake.take_rate_limit(method, args):
                    fake.answer(method, args)  # recorded all the same
                    body = b'{"ok": false, "error": "ratelimited"}'
                    self.send_response(429)
                    self.send_header("Retry-After", "0")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if method in fake.missing:
                    fake.answer(method, args)  # recorded all the same
                    body = b"<html><body>404 Not Found</body></html>"
                    self.send_response(404)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                self._send(fake.answer(method, args))

            def do_GET(self) -> None:
                if self.path in fake.files:
                    fake.downloads.append(self.path)
                    body = fake.files[self.path]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                query = self.path.split("?", 1)
                args = {k: v[0] for k, v in parse_qs(query[1]).items()} if len(query) == 2 else {}
                self._send(fake.answer(query[0].rsplit("/", 1)[-1], args))

            def _send(self, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def take_rate_limit(self, method: str, args: dict[str, Any]) -> bool:
        """Whether this call is one of those to answer 429."""
        with self._lock:
            for key in (f"{method}:{args.get('channel', '')}", method):
                if self.rate_limited.get(key, 0) > 0:
                    self.rate_limited[key] -= 1
                    return True
        return False

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Record the call and return Slack's answer."""
        with self._lock:
            self.calls.append(Call(method, args))
            ts = f"1700000000.{next(self._ts):06d}"
        if method in self.slow:
            time.sleep(self.slow[method])
        if method in self.answering:
            return {"ok": False, "error": self.answering[method]}
        if method in self.failing:
            return {"ok": False, "error": "fatal_error"}
        if method in self.bare:
            return {"ok": True}
        if method == "auth.test":
            return {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T111", "user": "backoffice"}
        if method == "users.info":
            email = self.emails.get(args.get("user", ""))
            return {"ok": True, "user": {"id": args.get("user"), "profile": {"email": email}}} if email else \
                {"ok": False, "error": "user_not_found"}
        if method == "users.lookupByEmail":
            found = [user for user, email in self.emails.items() if email == args.get("email")]
            return {"ok": True, "user": {"id": found[0]}} if found else {"ok": False, "error": "users_not_found"}
        if method in ("chat.postMessage", "chat.update"):
            channel = str(args.get("channel", ""))
            channel = "D" + channel[1:] if channel.startswith(("U", "W")) else channel
            return {"ok": True, "channel": channel, "ts": args.get("ts") or ts, "message": {"text": args.get("text")}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in ("views.open", "views.publish", "views.update"):
            return {"ok": True, "view": {"id": "V1", **(args.get("view") or {})}}
        return {"ok": True}

    def effects(self) -> list[Call]:
        """Return the recorded calls other than auth.test, which the App makes once, at start-up, on its own."""
        with self._lock:
            return [call for call in self.calls if call.method != "auth.test"]

    def of(self, method: str) -> list[Call]:
        """Return the recorded calls of one method."""
        with self._lock:
            return [call for call in self.calls if call.method == method]

    def share_file(self, name: str, content: bytes, *, file_id: str = "F111", mimetype: str = "text/markdown") -> dict[str, Any]:
        """Serve `content` for download and return the file object of a file_share event, as Slack sends it."""
        path = f"/files-pri/T111-{file_id}/download/{name}"
        self.files[path] = content
        origin = self.base_url.removesuffix("/api/")
        return {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "filetype": name.rsplit(".", 1)[-1],
                "size": len(content), "mode": "hosted", "is_external": False, "user": "U111",
                "url_private": f"{origin}/files-pri/T111-{file_id}/{name}", "url_private_download": f"{origin}{path}"}

    @property
    def response_url(self) -> str:
        """Return a slash command's response_url on this fake; what is posted to it is recorded as `response` calls."""
        return self.base_url.replace("/api/", "/commands/T111/1/response")

    def responses(self) -> list[Call]:
        """Return what was posted to the response_url (respond() in a listener)."""
        return self.of("response")

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()
