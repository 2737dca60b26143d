"""A crowd signing in at once: new users' rows are written in batches, known users' rows only read."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy import Engine, event, func, select

from gateway.app import create_app
from gateway.core.tables import users
from tests.support.gateway import Gateway

ME = "{ me { email } }"
CROWD = 200


@contextmanager
def commits(engine: Engine) -> Iterator[list[int]]:
    """Counts the transactions committed on `engine` inside the block."""
    counted = [0]

    def on_commit(_connection: object) -> None:
        counted[0] += 1

    event.listen(engine, "commit", on_commit)
    try:
        yield counted
    finally:
        event.remove(engine, "commit", on_commit)


async def sign_in(gateway: Gateway, emails: list[str]) -> list[str]:
    """Every caller's first request at once; the e-mail each was answered with."""
    tokens = [gateway.token(email, "SELLER") for email in emails]
    answers = await asyncio.gather(*(gateway.data_of(ME, token=token) for token in tokens))
    return [answer["me"]["email"] for answer in answers]


async def test_new_users_signing_in_together_are_written_in_a_few_transactions(gateway: Gateway) -> None:
    emails = [f"user{n}@x.test" for n in range(CROWD)]
    engine = gateway.app.state.db.engine
    with commits(engine) as counted:
        answered = await sign_in(gateway, emails)
    with engine.connect() as connection:
        stored = connection.execute(select(func.count()).select_from(users)).scalar()

    assert answered == emails and stored == CROWD
    assert counted[0] <= CROWD // 10  # one transaction a batch, not one a user


async def test_known_users_are_read_not_written_after_a_restart(gateway: Gateway) -> None:
    emails = [f"user{n}@x.test" for n in range(20)]
    await sign_in(gateway, emails)
    restarted = create_app(gateway.settings)  # a new process knows none of its callers
    transport = httpx.ASGITransport(app=restarted)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        with commits(restarted.state.db.engine) as counted:
            answered = await sign_in(Gateway(restarted, client, gateway.settings), emails)
    restarted.state.db.dispose()

    assert answered == emails and counted[0] == 0
