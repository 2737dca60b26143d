"""A store that stops answering gives SERVICE_UNAVAILABLE with HTTP 503, never a 500."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.gateway import Gateway

DEALS = "{ deals { totalCount } }"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A SQLite file whose folder the test can take away."""
    (tmp_path / "store").mkdir()
    return f"sqlite:///{tmp_path}/store/deal_desk.db"


async def test_unreadable_store_answers_503_with_retry_hint(gateway: Gateway, tmp_path: Path) -> None:
    gateway.data.user("desk@x.test", "DEAL_DESK")
    token = gateway.token("desk@x.test", "DEAL_DESK")
    await gateway.data_of(DEALS, token=token)
    gateway.app.state.db.dispose()
    shutil.rmtree(tmp_path / "store")  # even root cannot open a file in a folder that is gone

    response = await gateway.post(DEALS, token=token)
    ready = await gateway.client.get("/readyz")

    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert ready.status_code == 503
