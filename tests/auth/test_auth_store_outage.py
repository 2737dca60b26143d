"""A store outage while authenticating a caller (the users row) is a 503, never a 500."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.support.gateway import Gateway

ME = "{ me { id } }"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A SQLite file whose folder the test can take away."""
    (tmp_path / "store").mkdir()
    return f"sqlite:///{tmp_path}/store/deal_desk.db"


async def test_first_request_of_a_new_user_during_an_outage_is_503(gateway: Gateway, tmp_path: Path) -> None:
    gateway.app.state.db.dispose()
    shutil.rmtree(tmp_path / "store")

    response = await gateway.post(ME, token=gateway.token("newcomer@x.test", "SELLER"))

    assert response.status_code == 503, response.text
    assert response.headers["retry-after"]
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
