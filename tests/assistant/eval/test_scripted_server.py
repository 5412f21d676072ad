"""The scripted OpenAI server, driven over HTTP by the real openai client and langchain's ChatOpenAI."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

from assistant.eval.scripted_server import (
    Hang,
    Raw,
    ScriptedOpenAI,
    Status,
    Text,
    ToolCalls,
    response_from_json,
)


class RequestLeave(BaseModel):
    """Request days of leave for the current user."""

    start: str = Field(description="First day of leave, ISO date")
    days: int = Field(description="Number of working days")


LEAVE_ARGS = {"start": "2026-12-01", "days": 2}


@pytest.fixture
def server() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as running:
        yield running


@pytest.fixture
def client(server: ScriptedOpenAI) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0, timeout=5) as api:
        yield api


def chat_model(server: ScriptedOpenAI, **options: Any) -> ChatOpenAI:
    """Build a ChatOpenAI pointed at the scripted server."""
    return ChatOpenAI(base_url=server.base_url, api_key="test", model="scripted", max_retries=0, timeout=5, **options)


def ask(api: openai.OpenAI, text: str, **options: Any) -> Any:
    """Send one user message with the openai client."""
    return api.chat.completions.create(model="scripted", messages=[{"role": "user", "content": text}], **options)


def test_text_reply_has_content_model_and_usage(server: ScriptedOpenAI, client: openai.OpenAI) -> None:
    server.queue(Text("hello"))
    completion = ask(client, "hi there")
    assert completion.choices[0].message.content == "hello"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == "scripted"
    # "hi there" is 8 characters -> 2 tokens; "hello" is 5 -> 2.
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens) == (
        2,
        2,
        4,
    )
    assert server.requests == [{"model": "scripted", "messages": [{"role": "user", "content": "hi there"}]}]


def test_tool_calls_round_trip_through_the_openai_client(server: ScriptedOpenAI, client: openai.OpenAI) -> None:
    server.queue(ToolCalls((("request_leave", LEAVE_ARGS), ("leave_balance", {}))))
    tools = [{"type": "function", "function": {"name": "request_leave", "parameters": {"type": "object"}}}]
    completion = ask(client, "two days off", tools=tools)
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    assert [(call.function.name, json.loads(call.function.arguments)) for call in message.tool_calls] == [
        ("request_leave", LEAVE_ARGS),
        ("leave_balance", {}),
    ]
    ids = [call.id for call in message.tool_calls]
    assert all(call_id.startswith("call_") for call_id in ids) and len(set(ids)) == 2
    # The tool definitions count towards the prompt.
    assert completion.usage.prompt_tokens > len(json.dumps(tools)) // 4


def test_status_replies_raise_the_openai_error_types(server: ScriptedOpenAI, client: openai.OpenAI) -> None:
    server.queue(Status(429, retry_after=7), Status(500))
    with pytest.raises(openai.RateLimitError) as rate_limited:
        ask(client, "hello")
    assert rate_limited.value.response.headers["retry-after"] == "7"
    assert rate_limited.value.code == "rate_limit_exceeded"
    with pytest.raises(openai.InternalServerError):
        ask(client, "hello")


def test_hang_trips_the_client_timeout_and_the_server_keeps_serving(server: ScriptedOpenAI) -> None:
    server.queue(Text("warm"), Hang(10), Text("after the hang"))
    with openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0, timeout=0.5) as api:
        ask(api, "warm up")  # the client's first request pays for lazy imports, which a busy machine makes slow
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            ask(api, "hello")
        assert time.monotonic() - started < 5  # the timeout tripped: the server would have hung for 10 s
        assert ask(api, "again").choices[0].message.content == "after the hang"


def test_hang_shorter_than_the_timeout_answers_late(server: ScriptedOpenAI, client: openai.OpenAI) -> None:
    server.queue(Hang(0.05))
    assert ask(client, "hello").choices[0].message.content == "late"


def test_streamed_text_assembles_and_reports_usage(server: ScriptedOpenAI, client: openai.OpenAI) -> None:
    server.queue(Text("a reply long enough to need several pieces"))
    chunks = list(ask(client, "hello", stream=True, stream_options={"include_usage": True}))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "a reply long enough to need several pieces"
    assert [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 11


def test_streamed_tool_calls_assemble(server: ScriptedOpenAI, client: openai.OpenAI) -> None:
    server.queue(ToolCalls((("request_leave", LEAVE_ARGS),)))
    arguments = ""
    names = []
    for chunk in ask(client, "two days off", stream=True):
        for call in chunk.choices[0].delta.tool_calls or []:
            names += [call.function.name] if call.function.name else []
            arguments += call.function.arguments or ""
    assert names == ["request_leave"] and json.loads(arguments) == LEAVE_ARGS


def test_langchain_bind_tools_round_trips_a_pydantic_tool(server: ScriptedOpenAI) -> None:
    server.queue(ToolCalls((("RequestLeave", LEAVE_ARGS),)))
    reply = chat_model(server).bind_tools([RequestLeave]).invoke("two days off from 1 December")
    assert isinstance(reply, AIMessage)
    assert [(call["name"], call["args"]) for call in reply.tool_calls] == [("RequestLeave", LEAVE_ARGS)]
    assert reply.usage_metadata is not None and reply.usage_metadata["output_tokens"] >= 1
    sent_tool = server.requests[0]["tools"][0]["function"]
    assert sent_tool["name"] == "RequestLeave" and set(sent_tool["parameters"]["properties"]) == {"start", "days"}


def test_script_follows_a_conversation_through_its_tool_call(server: ScriptedOpenAI) -> None:
    server.add_script(["Book  two days\noff"], [ToolCalls((("RequestLeave", LEAVE_ARGS),)), Text("Booked.")])
    model = chat_model(server).bind_tools([RequestLeave])
    conversation: list[BaseMessage] = [HumanMessage("Book two days off")]
    first = model.invoke(conversation)
    conversation += [first, ToolMessage("ok", tool_call_id=first.tool_calls[0]["id"])]
    second = model.invoke(conversation)
    assert first.tool_calls[0]["name"] == "RequestLeave"
    assert second.content == "Booked."
    assert server.requests[1]["messages"][1]["tool_calls"][0]["id"] == first.tool_calls[0]["id"]


def test_script_key_joins_text_parts_and_counts_earlier_turns(server: ScriptedOpenAI, client: openai.OpenAI) -> None:
    server.add_script(["hello world", "and again"], [Text("second turn")])
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "text", "text": "world"}]},
        {"role": "assistant", "content": "hi"},
        {"role": "user", "content": "and again"},
    ]
    completion = client.chat.completions.create(model="scripted", messages=messages)
    assert completion.choices[0].message.content == "second turn"


def test_unmatched_conversation_is_a_readable_500(server: ScriptedOpenAI, client: openai.OpenAI) -> None:
    server.add_script(["known"], [Text("only reply")])
    with pytest.raises(openai.InternalServerError, match="no scripted reply matched.*'unknown question'"):
        ask(client, "unknown question")
    ask(client, "known")
    conversation = [
        {"role": "user", "content": "known"},
        {"role": "assistant", "content": "only reply"},
    ]
    with pytest.raises(openai.InternalServerError, match="has 1 responses, but this is model call 2"):
        client.chat.completions.create(model="scripted", messages=conversation)


def test_adding_a_different_script_for_the_same_messages_fails(server: ScriptedOpenAI) -> None:
    server.add_script(["hello"], [Text("one")])
    server.add_script([" hello "], [Text("one")])
    with pytest.raises(ValueError, match="different script"):
        server.add_script(["hello"], [Text("two")])


def test_langchain_streams_text_with_usage(server: ScriptedOpenAI) -> None:
    server.queue(Text("streamed reply text"))
    chunks = list(chat_model(server, stream_usage=True).stream("hello"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert isinstance(merged, AIMessageChunk) and merged.content == "streamed reply text"
    assert merged.usage_metadata is not None and merged.usage_metadata["output_tokens"] == 5


def test_langchain_streams_tool_calls(server: ScriptedOpenAI) -> None:
    server.queue(ToolCalls((("RequestLeave", LEAVE_ARGS),)))
    chunks = list(chat_model(server).bind_tools([RequestLeave]).stream("two days off"))
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert [(call["name"], call["args"]) for call in merged.tool_calls] == [("RequestLeave", LEAVE_ARGS)]


def test_models_listing_path_without_v1_and_unknown_paths(server: ScriptedOpenAI) -> None:
    with openai.OpenAI(base_url=server.base_url.removesuffix("/v1"), api_key="test", max_retries=0) as api:
        assert [model.id for model in api.models.list()] == ["scripted"]
        server.queue(Text("no prefix"))
        assert ask(api, "hello").choices[0].message.content == "no prefix"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(server.base_url + "/embeddings", timeout=5)
    assert missing.value.code == 404 and "no GET" in json.load(missing.value)["error"]["message"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"content": "hi"}, Text("hi")),
        ({"tool_calls": [{"name": "f", "args": {"a": 1}}]}, ToolCalls((("f", {"a": 1}),))),
        ({"status": 429}, Status(429)),
        ({"status": 503, "retry_after": 1}, Status(503, retry_after=1.0)),
        ({"hang": 2}, Hang(2.0)),
        ({"raw": "<html>"}, Raw("<html>")),
    ],
)
def test_response_from_json_builds_each_kind(raw: dict[str, Any], expected: object) -> None:
    assert response_from_json(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"content": 3},
        {"content": "hi", "status": 500},
        {"tool_calls": []},
        {"tool_calls": [{"name": "f", "args": [1]}]},
        {"tool_calls": [{"args": {}}]},
        {"status": 200},
        {"status": True},
        {"status": 503, "retry_after": -1},
        {"hang": -1},
        ["content"],
    ],
)
def test_response_from_json_rejects_malformed_input(raw: Any) -> None:
    with pytest.raises(ValueError, match="scripted"):
        response_from_json(raw)


def test_status_outside_the_error_range_is_refused() -> None:
    with pytest.raises(ValueError, match="400-599"):
        Status(200)
