"""Slack's Web API through slack-sdk's AsyncWebClient: who a person is on Slack, and the messages sent.

An approver's message is `chat.postMessage` to their Slack user id: the deal number, name, advertiser,
value and currency, the stage and its due time, buttons `approve`, `request_changes` and `reject` (each
`value` = the approval id), and a link button back to the deal when DEAL_DESK_PUBLIC_URL is set.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from gateway.core.settings import Settings

DECISIONS = {"approve": "APPROVE", "request_changes": "REQUEST_CHANGES", "reject": "REJECT"}
COMMENT_CALLBACK = "decision_comment"
COMMENT_BLOCK, COMMENT_INPUT = "comment", "text"
CACHE_S = 3600.0
TIMEOUT_S = 10
# Errors that no retry will mend: the row is marked FAILED at once.
PERMANENT = frozenset({"users_not_found", "user_not_found", "channel_not_found", "invalid_auth",
                       "not_authed", "account_inactive", "token_revoked", "missing_scope",
                       "invalid_blocks", "user_disabled"})
TITLES = {"APPROVAL_PENDING": "An approval waits for you",
          "REMINDER": "Reminder: an approval is due soon",
          "ESCALATED": "Escalated: an approval is overdue"}
OUTCOME_TEXT = {"APPROVED": "was approved", "REJECTED": "was rejected",
                "CHANGES_REQUESTED": "needs changes"}


class SlackFailure(Exception):
    """A Slack call failed: `code` is Slack's error name (or `unreachable`); `permanent`: retrying is vain."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code, self.permanent = code, code in PERMANENT


class Slack:
    """The bot's Web API client, with the e-mail <-> Slack user mapping cached."""

    def __init__(self, settings: Settings) -> None:
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        # No retry handlers: the outbox retries, with backoff, across restarts.
        self.client = AsyncWebClient(token=token, base_url=settings.slack_api_url, timeout=TIMEOUT_S,
                                     retry_handlers=[])
        self.public_url = settings.public_url.rstrip("/") if settings.public_url else None
        self._ids: dict[str, tuple[str, float]] = {}
        self._emails: dict[str, tuple[str | None, float]] = {}

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One Web API call through the client's own method (`chat.update` -> `chat_update`); SlackFailure on
        an error answer or no answer."""
        bound: Callable[..., Awaitable[AsyncSlackResponse]] = getattr(self.client, method.replace(".", "_"))
        try:
            response = await bound(**params)
        except SlackApiError as error:
            raise SlackFailure(str(error.response.get("error") or "slack_error")) from None
        except (OSError, TimeoutError, aiohttp.ClientError) as error:
            raise SlackFailure("unreachable") from error
        data: dict[str, Any] = response.data if isinstance(response.data, dict) else {}
        return data

    async def user_id(self, email: str) -> str:
        """The Slack user id of `email` (users.lookupByEmail, cached)."""
        cached = self._ids.get(email.lower())
        if cached is not None and time.monotonic() - cached[1] < CACHE_S:
            return cached[0]
        data = await self.call("users.lookupByEmail", email=email)
        user_id = str(data["user"]["id"])
        self._ids[email.lower()] = (user_id, time.monotonic())
        return user_id

    async def email_of(self, slack_user: str) -> str | None:
        """The e-mail of a Slack user (users.info, cached); None when their profile shows none."""
        cached = self._emails.get(slack_user)
        if cached is not None and time.monotonic() - cached[1] < CACHE_S:
            return cached[0]
        data = await self.call("users.info", user=slack_user)
        email = (data.get("user") or {}).get("profile", {}).get("email")
        self._emails[slack_user] = (str(email) if email else None, time.monotonic())
        return str(email) if email else None

    async def post(self, email: str, *, text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
        """A direct message to the Slack user of `email` (channel = their user id)."""
        return await self.call("chat.postMessage", channel=await self.user_id(email), text=text,
                               blocks=blocks)

    def deal_link(self, deal_id: str) -> str | None:
        """The deal's page in the Deal Desk, when DEAL_DESK_PUBLIC_URL is set."""
        return f"{self.public_url}/deals/{deal_id}" if self.public_url else None

    async def aclose(self) -> None:
        """Close the client's HTTP session, if it opened one."""
        session = getattr(self.client, "session", None)
        if session is not None and not session.closed:
            await session.close()


def escape(text: Any) -> str:
    """Text safe inside Slack mrkdwn (its three control characters escaped)."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def deal_line(facts: Mapping[str, Any]) -> str:
    """`*DD-2026-000123* name` / advertiser, value and currency."""
    return (f"*{escape(facts['deal_number'])}* {escape(facts['name'])}\n"
            f"{escape(facts.get('advertiser') or '-')} · {escape(facts['total_value'])} "
            f"{escape(facts['currency'])}")


def approval_message(facts: Mapping[str, Any], kind: str,
                     link: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) of a message asking an approver to decide."""
    title = TITLES.get(kind, TITLES["APPROVAL_PENDING"])
    due = facts.get("due_at") or "-"
    text = f"{title}: {facts['deal_number']} {facts['name']} ({facts['stage']})"
    buttons: list[dict[str, Any]] = [
        _button("approve", "Approve", facts["approval_id"], style="primary"),
        _button("request_changes", "Request changes", facts["approval_id"]),
        _button("reject", "Reject", facts["approval_id"], style="danger"),
    ]
    if link:
        buttons.append({"type": "button", "action_id": "open_deal", "url": link,
                        "text": {"type": "plain_text", "text": "Open in Deal Desk"}})
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": (
            f"*{escape(title)}*\n{deal_line(facts)}\n"
            f"Stage: *{escape(facts['stage'])}* · due {escape(due)}")}},
        {"type": "actions", "block_id": "decision", "elements": buttons},
    ]
    return text, blocks


def outcome_message(facts: Mapping[str, Any], link: str | None) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text, blocks) telling the owner how their deal was decided."""
    what = OUTCOME_TEXT.get(str(facts["status"]), str(facts["status"]))
    who = f" by {facts['decided_by']}" if facts.get("decided_by") else ""
    text = f"{facts['deal_number']} {facts['name']} {what}{who}"
    body = f"{deal_line(facts)}\n*{escape(what.capitalize())}*{escape(who)}"
    if facts.get("comment"):
        body += f"\n> {escape(facts['comment'])}"
    if link:
        body += f"\n<{link}|Open in Deal Desk>"
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": body}}]


def decided_blocks(original: list[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """The message's blocks with its buttons replaced by `note` (chat.update after a decision)."""
    kept = [block for block in original if block.get("type") != "actions"]
    return [*kept, {"type": "context", "elements": [{"type": "mrkdwn", "text": escape(note)}]}]


def comment_modal(*, approval_id: str, decision: str, channel: str | None, ts: str | None) -> dict[str, Any]:
    """The `decision_comment` modal asking why (reject, request changes)."""
    label = "Reject" if decision == "REJECT" else "Request changes"
    metadata = f"{approval_id}|{decision}|{channel or ''}|{ts or ''}"
    return {
        "type": "modal", "callback_id": COMMENT_CALLBACK, "private_metadata": metadata,
        "title": {"type": "plain_text", "text": label},
        "submit": {"type": "plain_text", "text": label},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "input", "block_id": COMMENT_BLOCK,
                    "label": {"type": "plain_text", "text": "Comment"},
                    "element": {"type": "plain_text_input", "action_id": COMMENT_INPUT, "multiline": True}}],
    }


def _button(action_id: str, label: str, value: str, *, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {"type": "button", "action_id": action_id, "value": value,
                              "text": {"type": "plain_text", "text": label}}
    if style:
        button["style"] = style
    return button
