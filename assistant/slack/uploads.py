"""Policy files sent to the assistant in a DM: handed to the core, downloaded with the bot token, answered with the report."""

from __future__ import annotations

import http.client
import logging
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.errors import AssistantError, AssistantErrorCode
from assistant.slack.blocks import escape
from assistant.slack.delivery import DELIVERY_ERRORS, failure_reason
from assistant.slack.deps import SlackDeps
from assistant.slack.ids import MessageSubtype
from assistant.slack.once import once_per_event
from assistant.slack.payloads import as_text
from assistant.slack.people import email_lookup, employee_of
from assistant.operations import MAX_RECEIPT_BYTES
from assistant.slack.messages import converse, dm_key
from assistant.uploads import IncomingFile, is_receipt_upload, receive_uploads, store_chat_receipt

log = logging.getLogger(__name__)
SLACK_FILE_HOSTS = frozenset({"files.slack.com"})  # the bot token goes only to these (https) or to SLACK_API_URL's host
DOWNLOAD_TIMEOUT_SECONDS = 30
HTML_SUFFIXES = (".html", ".htm")


def register(app: App, deps: SlackDeps) -> None:
    """Listen to files shared with the assistant in a DM."""

    def on_file_share(event: dict[str, Any], client: WebClient, **_: Any) -> None:
        user, channel = as_text(event.get("user")), as_text(event.get("channel")) or as_text(event.get("user"))
        if event.get("channel_type") != "im" or event.get("bot_id") or user is None or channel is None:
            return  # a file shared in a channel is not addressed to the assistant; a userless one is nobody's
        shared = event.get("files") if isinstance(event.get("files"), list) else []
        files = [_incoming(client, item) for item in shared if isinstance(item, dict)]
        text = event.get("text") if isinstance(event.get("text"), str) else ""
        if not files:  # a file share whose files Slack left out: the words are answered as any message is
            converse(deps, client, user_id=user, channel=channel, thread_ts=as_text(event.get("thread_ts")), key=dm_key(channel),
                     text=text, sent_at=as_text(event.get("ts")))
            return
        if _is_receipt(deps, client, user, text, files):
            converse(deps, client, user_id=user, channel=channel, thread_ts=as_text(event.get("thread_ts")), key=dm_key(channel),
                     text=text, attach=lambda: _store_receipt(deps, files, slack_file_fetcher(client)),
                     sent_at=as_text(event.get("ts")))
            return
        report = receive_uploads(deps.container, chat_user_id=user, lookup_email=email_lookup(client), files=files,
                                 instruction=text, fetch=slack_file_fetcher(client))
        try:
            client.chat_postMessage(channel=channel, text=escape(report.text))
        except DELIVERY_ERRORS as error:  # the files were taken (or refused) all the same: no "nothing changed"
            log.error("could not send %s the upload report (%s): %s", user, failure_reason(error), report.text[:200])

    app.event({"type": "message", "subtype": MessageSubtype.FILE_SHARE.value})(once_per_event(deps, on_file_share))


def _is_receipt(deps: SlackDeps, client: WebClient, user: str, text: str, files: list[IncomingFile]) -> bool:
    """Whether the files are an expense receipt for the conversation (unknown senders go the uploads way and are told)."""
    try:
        person = employee_of(deps, client, user)
    except AssistantError:
        return False
    return is_receipt_upload(deps.container, person.employee_id, [file.name for file in files], text)


def _store_receipt(deps: SlackDeps, files: list[IncomingFile], fetch: Callable[[IncomingFile, int], bytes]) -> str:
    if len(files) != 1:
        raise AssistantError(AssistantErrorCode.BAD_FILE, "Send one receipt per message, with the amount and what it was for; "
                                                          "nothing was filed.")
    return store_chat_receipt(files[0].name, fetch(files[0], MAX_RECEIPT_BYTES + 1), deps.container)


def _incoming(client: WebClient, shared: dict[str, Any]) -> IncomingFile:
    """Describe a shared file; when Slack sent only its id (file_access "check_file_info"), files.info tells the rest."""
    if not shared.get("name") and shared.get("id"):
        try:
            shared = client.files_info(file=shared["id"]).get("file") or shared
        except SlackApiError as error:
            log.warning("files.info failed for %s: %s", shared["id"], error.response.get("error"))
    return IncomingFile(name=str(shared.get("name") or shared.get("title") or ""), handle=shared)


def slack_file_fetcher(client: WebClient) -> Callable[[IncomingFile, int], bytes]:
    """Return a function downloading a shared file's private URL with the bot token, reading at most `limit` bytes."""
    api = urlsplit(client.base_url)
    allowed = {("https", host) for host in SLACK_FILE_HOSTS} | {(api.scheme, api.hostname)}

    def fetch(file: IncomingFile, limit: int) -> bytes:
        url = str(file.handle.get("url_private_download") or file.handle.get("url_private") or "")
        if (urlsplit(url).scheme, urlsplit(url).hostname) not in allowed:
            raise AssistantError(AssistantErrorCode.BAD_FILE, "Slack gave me no download link I can use; try sending it again.")
        request = urllib.request.Request(url)
        request.add_unredirected_header("Authorization", f"Bearer {client.token}")  # never forwarded to a redirect's host
        try:
            with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_SECONDS) as response:  # noqa: S310 - host checked above
                kind = response.headers.get_content_type() if response.headers.get("Content-Type") else ""
                content = response.read(limit)
        except (OSError, http.client.HTTPException) as error:  # URLError, HTTPError and timeouts are OSErrors
            log.warning("download of %s failed: %s", file.name, error)
            raise AssistantError(AssistantErrorCode.BAD_FILE,
                                 "I couldn't download it from Slack; try sending it again.") from error
        if kind == "text/html" and not file.name.lower().endswith(HTML_SUFFIXES):
            # Slack answers a token without the files:read scope with its sign-in page, not an error.
            raise AssistantError(AssistantErrorCode.BAD_FILE, "Slack sent a sign-in page instead of the file; "
                                 "the app needs the files:read scope.")
        return content

    return fetch
