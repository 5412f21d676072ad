"""A local OpenAI-compatible chat-completions server that answers from scripted replies.

It is the fake at the network edge for the LLM engine: the real `openai` client and langchain's `ChatOpenAI`
talk to it over HTTP on 127.0.0.1, so the whole client stack (retries, timeouts, SSE parsing) runs for real.
Replies come from a FIFO queue first, then from scripts keyed by the conversation's user messages.
Standard library only, and nothing here imports the rest of the project.
"""

from __future__ import annotations

import itertools
import json
import math
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

SCRIPTED_MODEL_ID = "scripted"
LATE_REPLY = "late"
# Small pieces so that clients really have to assemble the deltas of a stream.
STREAM_PIECE_CHARS = 8
# serve_forever polls for shutdown at this interval; the default 0.5 s would slow every test's teardown.
SHUTDOWN_POLL_SECONDS = 0.05
# OpenAI's error (type, code) by status, so clients that read `error.code` see realistic values.
ERROR_KINDS = {401: ("invalid_request_error", "invalid_api_key"), 429: ("requests", "rate_limit_exceeded")}


@dataclass(frozen=True)
class Text:
    """An assistant message with plain content."""

    content: str


@dataclass(frozen=True)
class ToolCalls:
    """An assistant message calling tools, as (name, arguments) pairs."""

    calls: tuple[tuple[str, dict[str, Any]], ...]


@dataclass(frozen=True)
class Status:
    """An HTTP error reply in OpenAI's error shape, with an optional Retry-After header."""

    code: int
    retry_after: float | None = None

    def __post_init__(self) -> None:
        if not _is_http_error_code(self.code):
            raise ValueError(f"a scripted Status must be an HTTP error code 400-599, got {self.code!r}")


@dataclass(frozen=True)
class Hang:
    """A reply that sleeps this long, then answers Text("late") if the client is still there."""

    seconds: float


@dataclass(frozen=True)
class Raw:
    """A reply sent exactly as given: a broken endpoint or proxy (a page that is not JSON, tool calls cut short)."""

    body: str
    status: int = 200
    content_type: str = "application/json"


Response = Text | ToolCalls | Status | Hang | Raw


def response_from_json(raw: dict[str, Any]) -> Response:
    """Build a scripted response from its JSON form: content, tool_calls, status or hang."""
    if not isinstance(raw, dict):
        raise ValueError(f"a scripted response must be a JSON object, got {raw!r}")
    keys = set(raw)
    if keys == {"content"} and isinstance(raw["content"], str):
        return Text(raw["content"])
    if keys == {"tool_calls"} and isinstance(raw["tool_calls"], list) and raw["tool_calls"]:
        return ToolCalls(tuple(_tool_call_from_json(call) for call in raw["tool_calls"]))
    if keys in ({"status"}, {"status", "retry_after"}) and _is_http_error_code(raw["status"]):
        retry_after = raw.get("retry_after")
        if retry_after is not None and not _is_non_negative_number(retry_after):
            raise ValueError(f"a scripted retry_after must be a non-negative number of seconds, got {retry_after!r}")
        return Status(raw["status"], None if retry_after is None else float(retry_after))
    if keys == {"hang"} and _is_non_negative_number(raw["hang"]):
        return Hang(float(raw["hang"]))
    if keys == {"raw"} and isinstance(raw["raw"], str):
        return Raw(raw["raw"])
    shapes = ('{"content": str}, {"tool_calls": [{"name": str, "args": {...}}]}, {"status": 400-599}, {"hang": s}, '
              '{"raw": str}')
    raise ValueError(f"a scripted response must be exactly one of {shapes}; got {raw!r}")


def _tool_call_from_json(raw: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(raw, dict) or not set(raw) <= {"name", "args"} or not isinstance(raw.get("name"), str):
        raise ValueError(f'a scripted tool call must be {{"name": str, "args": {{...}}}}, got {raw!r}')
    arguments = raw.get("args", {})
    if not isinstance(arguments, dict):
        raise ValueError(f"the args of scripted tool call {raw['name']!r} must be an object, got {arguments!r}")
    return raw["name"], arguments


def _is_http_error_code(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599


def _is_non_negative_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


class _NoScriptMatched(Exception):
    """Raised inside the server when neither the queue nor a script has a reply for a request."""


class ScriptedOpenAI:
    """A scripted OpenAI chat-completions server on 127.0.0.1, serving from construction until close()."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._queued: deque[Response] = deque()
        self._scripts: dict[tuple[str, ...], tuple[Response, ...]] = {}
        self._id_numbers = itertools.count(1)
        self._closed = threading.Event()
        self._http = _ScriptedHTTPServer(("127.0.0.1", 0), _ChatCompletionsHandler)
        self._http.scripted = self
        host, port = self._http.server_address[:2]
        self.base_url = f"http://{host}:{port}/v1"
        serve = {"poll_interval": SHUTDOWN_POLL_SECONDS}
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs=serve, daemon=True)
        self._thread.start()

    def __enter__(self) -> ScriptedOpenAI:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def queue(self, *responses: Response) -> None:
        """Answer the next calls with these responses, in order, before any script."""
        with self._lock:
            self._queued.extend(responses)

    def add_script(self, user_messages: Sequence[str], responses: Sequence[Response]) -> None:
        """Answer the conversation whose user messages so far are exactly these with the responses in turn."""
        if isinstance(user_messages, str):
            raise ValueError("user_messages must be a sequence of messages, not one string")
        key = tuple(_collapse_whitespace(text) for text in user_messages)
        script = tuple(responses)
        with self._lock:
            existing = self._scripts.setdefault(key, script)
        if existing != script:
            raise ValueError(f"a different script already exists for the user messages {list(key)!r}")

    def close(self) -> None:
        """Stop serving, drop open connections and release the port; safe to call twice."""
        if self._closed.is_set():
            return
        # Set first: it also wakes any Hang that is sleeping, so its thread can finish.
        self._closed.set()
        self._http.shutdown()
        self._http.drop_open_connections()
        self._http.server_close()
        self._thread.join()

    def take_response(self, body: dict[str, Any]) -> Response:
        """Record a request and return its reply: the head of the queue, else the matching script's step."""
        messages = body.get("messages")
        user_texts, replies_since_user = _script_position(messages if isinstance(messages, list) else [])
        with self._lock:
            self.requests.append(body)
            if self._queued:
                return self._queued.popleft()
            script = self._scripts.get(user_texts)
        if script is None:
            raise _NoScriptMatched(f"no scripted reply matched; the request's user messages are {list(user_texts)!r}")
        if replies_since_user >= len(script):
            raise _NoScriptMatched(
                f"the script for the user messages {list(user_texts)!r} has {len(script)} responses, "
                f"but this is model call {replies_since_user + 1} after the last user message"
            )
        return script[replies_since_user]

    def new_id(self, prefix: str) -> str:
        """Return an id with this prefix, unique within this server."""
        with self._lock:
            return f"{prefix}{next(self._id_numbers)}"

    def wait_or_closed(self, seconds: float) -> None:
        """Sleep for a Hang, waking early when the server closes."""
        self._closed.wait(seconds)


class _ScriptedHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that never waits for handler threads on close and can drop live connections."""

    # Handler threads may sit in a Hang or in a keep-alive read; close() must not wait for them.
    block_on_close = False
    daemon_threads = True
    scripted: ScriptedOpenAI

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket, *, is_open: bool) -> None:
        """Add or remove a live client connection."""
        with self._connections_lock:
            if is_open:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def drop_open_connections(self) -> None:
        """Shut down every live connection so that keep-alive handler threads end now."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client closed it first: nothing left to drop

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Ignore clients that went away (e.g. after their timeout); report anything else as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class _ChatCompletionsHandler(BaseHTTPRequestHandler):
    """Serve POST .../chat/completions and GET .../models from the owning ScriptedOpenAI."""

    # HTTP/1.1 with Content-Length keeps httpx's pooled connections alive between calls.
    protocol_version = "HTTP/1.1"
    server: _ScriptedHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, is_open=True)

    def finish(self) -> None:
        self.server.track(self.connection, is_open=False)
        try:
            super().finish()
        except ConnectionError:
            pass  # the client is gone; there is nobody left to flush to

    def log_message(self, format: str, *args: Any) -> None:
        """Log nothing: one line per request would bury the test output."""

    def do_GET(self) -> None:
        """Answer the model list; anything else is 404."""
        if urlsplit(self.path).path.rstrip("/").endswith("/models"):
            self._send_json(200, {"object": "list", "data": [{"id": SCRIPTED_MODEL_ID, "object": "model"}]})
        else:
            self._send_not_found()

    def do_POST(self) -> None:
        """Answer a chat completion from the queue or a script; anything else is 404."""
        raw = self._read_body()  # always read, so that a keep-alive connection stays in step
        if not urlsplit(self.path).path.rstrip("/").endswith("/chat/completions"):
            self._send_not_found()
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._send_error(400, "the request body must be a JSON object", "invalid_request_error", "invalid_json")
            return
        try:
            response = self.server.scripted.take_response(body)
        except _NoScriptMatched as error:
            self._send_error(500, str(error), "server_error", "no_script_matched")
            return
        try:
            self._answer(body, response)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up, e.g. on its timeout during a Hang

    def _answer(self, body: dict[str, Any], response: Response) -> None:
        if isinstance(response, Status):
            fallback = ("server_error", None) if response.code >= 500 else ("invalid_request_error", None)
            error_type, code = ERROR_KINDS.get(response.code, fallback)
            headers = {} if response.retry_after is None else {"Retry-After": f"{response.retry_after:g}"}
            message = f"scripted HTTP {response.code} reply"
            self._send_error(response.code, message, error_type, code, headers)
            return
        if isinstance(response, Raw):
            data = response.body.encode()
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if isinstance(response, Hang):
            self.server.scripted.wait_or_closed(response.seconds)
            response = Text(LATE_REPLY)
        message = _assistant_message(response, self.server.scripted.new_id)
        completion_id = self.server.scripted.new_id("chatcmpl-")
        model = body.get("model") if isinstance(body.get("model"), str) else SCRIPTED_MODEL_ID
        usage = _usage(body, message)
        if body.get("stream") is True:
            stream_options = body.get("stream_options")
            include_usage = isinstance(stream_options, dict) and stream_options.get("include_usage") is True
            self._send_stream(_stream_chunks(message, model, completion_id, usage if include_usage else None))
        else:
            self._send_json(200, _completion(message, model, completion_id, usage))

    def _read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(
        self, status: int, message: str, error_type: str, code: str | None, headers: dict[str, str] | None = None
    ) -> None:
        error = {"message": message, "type": error_type, "param": None, "code": code}
        self._send_json(status, {"error": error}, headers)

    def _send_not_found(self) -> None:
        message = f"the scripted OpenAI server has no {self.command} {self.path}"
        self._send_error(404, message, "invalid_request_error", "not_found")

    def _send_stream(self, chunks: Iterator[dict[str, Any]]) -> None:
        # Without a Content-Length the end of the stream is the end of the connection.
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _collapse_whitespace(text: str) -> str:
    return " ".join(text.split())


def _content_text(content: Any) -> str:
    """Return the text of a message content: a string, or the joined texts of a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text") for part in content if isinstance(part, dict) and part.get("type") == "text"]
        return " ".join(text for text in texts if isinstance(text, str))
    return ""


def _script_position(messages: list[Any]) -> tuple[tuple[str, ...], int]:
    """Return the conversation's user messages and how many assistant replies follow the last one."""
    roles = [message.get("role") if isinstance(message, dict) else None for message in messages]
    users = [message for message, role in zip(messages, roles) if role == "user"]
    user_texts = tuple(_collapse_whitespace(_content_text(message.get("content"))) for message in users)
    last_user = max((index for index, role in enumerate(roles) if role == "user"), default=-1)
    replies_since_user = sum(1 for role in roles[last_user + 1 :] if role == "assistant")
    return user_texts, replies_since_user


def _assistant_message(response: Text | ToolCalls, new_id: Callable[[str], str]) -> dict[str, Any]:
    if isinstance(response, Text):
        return {"role": "assistant", "content": response.content}
    tool_calls = [
        {"id": new_id("call_"), "type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}
        for name, arguments in response.calls
    ]
    return {"role": "assistant", "content": None, "tool_calls": tool_calls}


def _finish_reason(message: dict[str, Any]) -> str:
    return "tool_calls" if message.get("tool_calls") else "stop"


def _usage(body: dict[str, Any], message: dict[str, Any]) -> dict[str, int]:
    """Estimate token counts at four characters a token, so usage accounting has numbers to check."""
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    prompt_chars = sum(len(_content_text(item.get("content"))) for item in messages if isinstance(item, dict))
    if body.get("tools"):
        prompt_chars += len(json.dumps(body["tools"]))
    tool_calls = message.get("tool_calls")
    completion_chars = len(json.dumps(tool_calls)) if tool_calls else len(message["content"])
    prompt_tokens = max(1, math.ceil(prompt_chars / 4))
    completion_tokens = max(1, math.ceil(completion_chars / 4))
    total_tokens = prompt_tokens + completion_tokens
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": total_tokens}


def _completion(message: dict[str, Any], model: str, completion_id: str, usage: dict[str, int]) -> dict[str, Any]:
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": _finish_reason(message)}
    base = {"id": completion_id, "object": "chat.completion", "created": int(time.time()), "model": model}
    return {**base, "choices": [choice], "usage": usage}


def _stream_chunks(
    message: dict[str, Any], model: str, completion_id: str, usage: dict[str, int] | None
) -> Iterator[dict[str, Any]]:
    """Yield the chat.completion.chunk objects of a streamed reply, with a usage chunk when asked for."""
    created = int(time.time())

    def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
        base = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        return {**base, "choices": choices, **extra}

    def delta(content: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return chunk([{"index": 0, "delta": content, "logprobs": None, "finish_reason": finish_reason}])

    tool_calls = message.get("tool_calls") or []
    yield delta({"role": "assistant", "content": None if tool_calls else ""})
    for piece in _pieces(message["content"] or ""):
        yield delta({"content": piece})
    for index, call in enumerate(tool_calls):
        header = {"index": index, "id": call["id"], "type": "function"}
        yield delta({"tool_calls": [{**header, "function": {"name": call["function"]["name"], "arguments": ""}}]})
        for piece in _pieces(call["function"]["arguments"]):
            yield delta({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    yield delta({}, _finish_reason(message))
    if usage is not None:
        yield chunk([], usage=usage)


def _pieces(text: str) -> list[str]:
    return [text[start : start + STREAM_PIECE_CHARS] for start in range(0, len(text), STREAM_PIECE_CHARS)]
