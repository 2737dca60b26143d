"""Webhooks per the Standard Webhooks specification: one JSON message `{type, timestamp, data}` per DealEvent.

Signed with the `standardwebhooks` package (`webhook-id` = the outbox row's id, so a receiver can drop a
redelivery; `webhook-timestamp`; `webhook-signature: v1,<base64 HMAC-SHA256>`), POSTed to
DEAL_DESK_WEBHOOK_URL through the outbox. A 2xx answer is delivered; any other, or none, is retried.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
from sqlalchemy import Row
from standardwebhooks import Webhook

from gateway.core.settings import Settings
from gateway.notify.dispatcher import Deliver, DeliveryError

TIMEOUT_S = 10.0


def signed_headers(secret: str, *, message_id: str, at: dt.datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers of one message."""
    signature = Webhook(secret).sign(message_id, at, body)
    return {"webhook-id": message_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature, "content-type": "application/json"}


def deliverer(settings: Settings, client: httpx.AsyncClient) -> Deliver:
    """The webhook channel's Deliver."""
    assert settings.webhook_url is not None and settings.webhook_secret is not None
    url, secret = settings.webhook_url.get_secret_value(), settings.webhook_secret.get_secret_value()

    async def deliver(row: Row[Any], payload: dict[str, Any]) -> None:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
        headers = signed_headers(secret, message_id=str(row.id), at=dt.datetime.now(dt.UTC), body=body)
        try:
            response = await client.post(url, content=body, headers=headers, timeout=TIMEOUT_S)
        except httpx.HTTPError:
            raise DeliveryError("unreachable") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryError(f"http_{response.status_code}", permanent=response.status_code in (404, 410))

    return deliver
