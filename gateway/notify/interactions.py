"""`POST /slack/interactions`: an approver decides from the Slack message (PRODUCT.md, "Deciding from Slack").

The request is verified first with slack-sdk's SignatureVerifier (`v0=` HMAC-SHA256 over
`v0:{timestamp}:{raw body}`, constant-time, timestamp within 300 s): anything else is 401 and nothing is
read or written. It is answered at once (Slack wants an answer within 3 s); the work runs after:

- `approve` decides; `reject` and `request_changes` open the `decision_comment` modal (`views.open` with
  the click's trigger_id), whose `view_submission` carries the comment and decides;
- the clicking Slack user is mapped to a users row by e-mail (`users.info`); their roles are that row's
  last-seen roles when seen within DEAL_DESK_SLACK_ROLES_MAX_AGE_H, else they are asked to sign in to the
  Deal Desk and nothing is written;
- the decision runs through decideApproval's own checks and workflow (stage role, region, segregation of
  duties, PENDING only, the comment's rules), its action recorded `via: SLACK`; a repeated click finds the
  stage decided and decides nothing;
- the message is updated (`chat.update`) with the outcome and who decided, or, for a stage decided
  elsewhere, to say so; a refusal (not theirs to decide) is a message to the clicker, the buttons stay.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

import structlog
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Row
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from auth.principal import Principal
from gateway.core.errors import Conflict, GatewayError
from gateway.core.roles import Role
from gateway.core.settings import Settings
from gateway.events.broker import Broker, Event
from gateway.notify import slack as slack_api
from gateway.store import approval as approval_store
from gateway.store import user as user_store
from gateway.store.audit import Actor
from gateway.store.database import Database
from gateway.workflow import approval as workflow
from gateway.workflow import notices
from resolvers.mutations.decide_approval import require_approver, validate

log = structlog.get_logger("deal_desk.slack")

DECIDE = notices.evented("APPROVAL_DECIDED", workflow.decide)  # as decideApproval writes it

SIGN_IN = "Please sign in to the Deal Desk once, then click again: your roles there are needed to decide."
UNKNOWN = "No Deal Desk user has your Slack e-mail address: nothing was decided."
COMMENT = slack_api.COMMENT_CALLBACK
STATUS_WORDS = {"APPROVED": "approved", "REJECTED": "rejected", "CHANGES_REQUESTED": "sent back for changes",
                "CANCELLED": "cancelled"}
DONE = {"APPROVE": "Approved", "REJECT": "Rejected", "REQUEST_CHANGES": "Changes requested"}


@dataclass(frozen=True)
class Click:
    """What a Slack user asked for, and the message it came from."""

    slack_user: str
    decision: str
    approval_id: str
    comment: str | None
    channel: str | None
    ts: str | None
    blocks: list[dict[str, Any]]


class Interactions:
    """The endpoint, with the background decisions it started (so none is garbage-collected mid-way)."""

    def __init__(self, db: Database, settings: Settings, slack: slack_api.Slack | None,
                 broker: Broker) -> None:
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
        self.verifier = SignatureVerifier(secret) if secret else None
        self.db, self.settings, self.slack, self.broker = db, settings, slack, broker
        self.tasks: set[asyncio.Task[None]] = set()

    async def endpoint(self, request: Request) -> Response:
        """Verify, answer at once, work afterwards."""
        body = await request.body()
        if self.verifier is None or self.slack is None:
            return _error(404, "NOT_FOUND", "Slack is not configured.")
        if not self.verifier.is_valid_request(body, dict(request.headers)):
            return _error(401, "UNAUTHENTICATED", "The request is not signed by Slack.")
        if request.headers.get("x-slack-retry-num"):
            return Response(status_code=200)  # the first delivery was acknowledged and is being handled
        try:
            payload = json.loads(urllib.parse.parse_qs(body.decode())["payload"][0])
            kind = payload["type"]
        except (KeyError, IndexError, ValueError, UnicodeDecodeError, TypeError):
            return _error(400, "BAD_USER_INPUT", "Expected Slack's form-encoded payload.")
        if kind == "block_actions":
            self._spawn(self._clicked(payload))
        elif kind == "view_submission" and (payload.get("view") or {}).get("callback_id") == COMMENT:
            self._spawn(self._submitted(payload))
        return Response(status_code=200)  # an empty 200 acknowledges (and closes a submitted modal)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _clicked(self, payload: dict[str, Any]) -> None:
        try:
            [action] = payload.get("actions") or [None]
            decision = slack_api.DECISIONS.get(str((action or {}).get("action_id")))
            if decision is None:
                return  # the link button, or something this app did not send
            container = payload.get("container") or {}
            click = Click(slack_user=str(payload["user"]["id"]), decision=decision,
                          approval_id=str(action["value"]), comment=None,
                          channel=container.get("channel_id") or (payload.get("channel") or {}).get("id"),
                          ts=container.get("message_ts"),
                          blocks=(payload.get("message") or {}).get("blocks") or [])
            if decision == "APPROVE":
                await self._decide(click)
                return
            view = slack_api.comment_modal(approval_id=click.approval_id, decision=decision,
                                           channel=click.channel, ts=click.ts)
            await self._slack("views.open", trigger_id=payload["trigger_id"], view=view)
        except Exception as error:  # nothing of it reaches Slack's user but our replies
            log.warning("slack click not handled", error_type=type(error).__name__)

    async def _submitted(self, payload: dict[str, Any]) -> None:
        try:
            view = payload["view"]
            approval_id, decision, channel, ts = str(view["private_metadata"]).split("|")
            if decision not in DONE:
                return
            state = view.get("state", {}).get("values", {})
            comment = state.get(slack_api.COMMENT_BLOCK, {}).get(slack_api.COMMENT_INPUT, {}).get("value")
            await self._decide(Click(slack_user=str(payload["user"]["id"]), decision=decision,
                                     approval_id=approval_id, comment=comment, channel=channel or None,
                                     ts=ts or None, blocks=[]))
        except Exception as error:
            log.warning("slack modal not handled", error_type=type(error).__name__)

    async def _decide(self, click: Click) -> None:
        assert self.slack is not None
        principal = await self._principal(click.slack_user)
        if principal is None:
            return
        try:
            require_approver(principal)
            approval_id, comment = validate(click.approval_id, click.comment)
            actor = Actor(user_id=principal.user_id, sub=principal.sub, reason=comment, via="SLACK")
            deal_id = await self.db.write(DECIDE, principal=principal, actor=actor,
                                          approval_id=approval_id, decision=click.decision, comment=comment)
        except Conflict as error:  # decided elsewhere (or just now, by a repeated click)
            await self._update(click, await self._already(principal, click.approval_id, str(error)))
            return
        except GatewayError as error:  # not theirs to decide, a bad comment, the store away
            await self._tell(click.slack_user, f"Nothing done: {error}")
            return
        await self.broker.publish(Event(kind="APPROVAL_DECIDED", deal_id=deal_id,
                                        actor_user_id=actor.user_id, at=actor.at))
        await self._update(click, f"{DONE[click.decision]} by {principal.name} from Slack"
                                  + (f": {comment}" if comment else ""))

    async def _already(self, principal: Principal, approval_id: str, fallback: str) -> str:
        """What the message says of a stage not open to this click: how it was decided, and by whom."""
        try:
            found = await self.db.read(approval_store.decision_of, principal=principal,
                                       approval_id=approval_id)
        except GatewayError:
            found = None
        if found is None or found[0] in ("PENDING", "WAITING"):
            return f"Nothing done: {fallback}"
        status, who = found
        by = f" by {who}" if who else ""
        return f"Already {STATUS_WORDS.get(status, status.lower())}{by}: nothing done from this click."

    async def _principal(self, slack_user: str) -> Principal | None:
        """The users row of the Slack user, as a Principal with its last-seen roles; None (and a reply)."""
        assert self.slack is not None
        email = await self.slack.email_of(slack_user)
        row = await self.db.read(user_store.get_by_email, email=email) if email else None
        if row is None:
            await self._tell(slack_user, UNKNOWN)
            return None
        max_age = dt.timedelta(hours=self.settings.slack_roles_max_age_h)
        if row.last_seen_at is None or dt.datetime.now(dt.UTC) - row.last_seen_at > max_age:
            await self._tell(slack_user, SIGN_IN)
            return None
        return principal_of(row)

    async def _update(self, click: Click, note: str) -> None:
        if click.channel and click.ts:
            await self._slack("chat.update", channel=click.channel, ts=click.ts, text=note,
                              blocks=slack_api.decided_blocks(click.blocks, note))
        else:
            await self._tell(click.slack_user, note)

    async def _tell(self, slack_user: str, text: str) -> None:
        await self._slack("chat.postMessage", channel=slack_user, text=text)

    async def _slack(self, method: str, **params: Any) -> None:
        assert self.slack is not None
        try:
            await self.slack.call(method, **params)
        except slack_api.SlackFailure as failure:
            log.warning("slack reply failed", method=method, error=failure.code)

    async def aclose(self) -> None:
        """Let the decisions under way finish."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=5)


def principal_of(row: Row[Any]) -> Principal:
    """A users row as the Principal it was last seen as."""
    known = {role.value for role in Role}
    roles = frozenset(Role(name) for name in str(row.roles).split(",") if name in known)
    return Principal(user_id=row.id, sub=row.sub, email=row.email, name=row.display_name, roles=roles,
                     region=row.region)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status)
