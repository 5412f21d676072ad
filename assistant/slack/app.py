"""The bolt App factory: exactly-once middleware, one error handler, and the listeners of each feature."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import RateLimitErrorRetryHandler, default_retry_handlers

from assistant.container import Container
from assistant.engines import ConversationEngine, select_engine
from assistant.errors import AssistantError, AssistantErrorCode, error_text
from assistant.slack import cards, commands, forms, home, messages, tickets, uploads
from assistant.slack.delivery import SlackError, SlackErrorCode, after_the_work_text
from assistant.slack.deps import SlackDeps
from assistant.slack.guard import MalformedPayloadGuard

log = logging.getLogger(__name__)


def build_app(container: Container, *, engine: ConversationEngine | None = None, client: WebClient | None = None,
              deps: SlackDeps | None = None) -> App:
    """Build the Slack App on the container; SLACK_API_URL points its Web API client elsewhere (tests, proxies)."""
    settings = container.settings
    if not settings.slack_bot_token or not (settings.slack_signing_secret or settings.slack_app_token):
        raise AssistantError(AssistantErrorCode.NOT_CONFIGURED,
                             "Slack needs SLACK_BOT_TOKEN plus SLACK_SIGNING_SECRET (HTTP mode) or SLACK_APP_TOKEN (Socket Mode).")
    web = client or web_client(settings.slack_bot_token, settings.slack_api_url)
    app = App(signing_secret=settings.slack_signing_secret or "socket-mode", client=web,
              authorize=_authorizer(settings.slack_bot_token, web))
    deps = deps or SlackDeps(container=container, engine=engine or select_engine(container))
    app.error(_on_error)
    app.use(MalformedPayloadGuard())  # before any listener: bolt itself cannot route a malformed click or submission
    # Bolt gives a request to the first listener that matches: uploads (message subtype file_share) before messages.
    for feature in (uploads, messages, cards, commands, forms, home, tickets):
        feature.register(app, deps)
    _acknowledge_the_rest(app)
    return app


def _acknowledge_the_rest(app: App) -> None:
    """Answer 200 to events, clicks and submissions no feature handles, so Slack neither retries nor shows an error."""
    anything = re.compile(".*")

    def ignore(ack: Ack) -> None:
        ack()

    app.event(anything)(lambda: None)  # events are acknowledged before listeners run
    app.action(anything)(ignore)
    app.view(anything)(ignore)
    app.view_closed(anything)(ignore)  # a modal closed with notify_on_close: nothing was submitted, nothing to do
    app.shortcut(anything)(ignore)
    app.options(anything)(lambda ack: ack(options=[]))


# How long a request waits for the bot's identity (auth.test) before going on without it; asked at start-up.
IDENTITY_WAIT_SECONDS = 0.5
IDENTITY_RETRY_SECONDS = 60.0


def _authorizer(token: str, web: WebClient) -> Callable[..., AuthorizeResult]:
    """Authorize every request with the one bot token; auth.test names the bot when Slack answers it.

    auth.test is asked once, in the background, as soon as the App is built: a request never waits on it for more
    than a moment, so a slow or failing Slack cannot hold up the 3-second acknowledgement. Bolt's own single-team
    authorization drops every request while auth.test fails; here a failing auth.test only costs the bot's own ids
    (events from the bot still carry bot_id, which the listeners skip) until it is asked again a minute later.
    """
    identity: dict[str, Any] = {}
    known = threading.Event()
    asking = threading.Lock()
    last_try = [float("-inf")]

    def ask() -> None:
        try:
            identity.update(web.auth_test(token=token).data)  # type: ignore[arg-type]
            known.set()
        except Exception as error:  # noqa: BLE001 - Slack down or the token refused: asked again later
            reason = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
            log.warning("auth.test failed (%s); answering without the bot's own user id for now", reason)
        finally:
            asking.release()

    def ask_in_background() -> None:
        if known.is_set() or time.monotonic() - last_try[0] < IDENTITY_RETRY_SECONDS or not asking.acquire(blocking=False):
            return
        last_try[0] = time.monotonic()
        threading.Thread(target=ask, name="slack-auth-test", daemon=True).start()

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        if not known.is_set():
            ask_in_background()
            known.wait(IDENTITY_WAIT_SECONDS)
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id or identity.get("team_id"), bot_token=token,
                               bot_user_id=identity.get("user_id"), bot_id=identity.get("bot_id"))

    ask_in_background()
    return authorize


def web_client(token: str, api_url: str | None) -> WebClient:
    """The Web API client: connection errors and rate limits (429, honouring Retry-After) are retried twice."""
    handlers = [*default_retry_handlers(), RateLimitErrorRetryHandler(max_retry_count=2)]
    return WebClient(token=token, base_url=_api_url(api_url), retry_handlers=handlers)


def _api_url(url: str | None) -> str:
    if not url:
        return WebClient.BASE_URL
    return url if url.endswith("/") else url + "/"


def _who(body: Any) -> str | None:
    """The person a request came from, wherever its shape puts them (a malformed body names nobody)."""
    if not isinstance(body, dict):
        return None
    user, event = body.get("user"), body.get("event")
    found = (user.get("id") if isinstance(user, dict) else None) or (event.get("user") if isinstance(event, dict) else None) \
        or body.get("user_id")
    return found if isinstance(found, str) and found else None


def _on_error(error: Exception, body: dict[str, Any], client: WebClient) -> None:
    """The one error handler: log with an id and tell the person, whatever listener failed.

    A failure after the person's request was carried out (only telling them failed) never says nothing changed.
    """
    if isinstance(error, SlackError) and error.code == SlackErrorCode.AFTER_THE_WORK:
        text = after_the_work_text(error)
    else:
        text = error_text(error)
    user = _who(body)
    if user:
        try:
            client.chat_postMessage(channel=user, text=text)
        except Exception:  # noqa: BLE001 - Slack itself is failing; the error id is already in the log
            log.exception("could not tell %s about an error", user)
