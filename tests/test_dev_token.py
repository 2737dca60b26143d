"""`deal-desk token` on a seeded store: without --name a demo user keeps their name, in the audit log too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from gateway.app import create_app
from gateway.core.settings import Settings
from gateway.ops.seed import seed
from gateway.store.migrate import migrate

DEAL_DESK = str(Path(sys.executable).with_name("deal-desk"))
ME = "{ me { email displayName } }"


def token(settings: Settings, *arguments: str) -> str:
    """A token printed by the real `deal-desk token` on the test's store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEAL_DESK_")}
    env.update(DEAL_DESK_DATABASE_URL=settings.database_url,
               DEAL_DESK_DEV_KEY_FILE=str(settings.dev_key_path))
    done = subprocess.run([DEAL_DESK, "token", *arguments], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return done.stdout.strip()


async def me(settings: Settings, bearer: str) -> dict[str, str]:
    """`me` as the gateway answers it for `bearer` (the request that syncs the users row)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
            response = await client.post("/graphql", json={"query": ME},
                                         headers={"authorization": f"Bearer {bearer}"})
    finally:
        app.state.db.dispose()
    answer: dict[str, str] = response.json()["data"]["me"]
    return answer


async def test_a_dev_token_without_a_name_keeps_the_seeded_users_name(settings: Settings) -> None:
    app = create_app(settings)
    migrate(app.state.db.engine)
    seed(app.state.db.engine, scale=1, progress=False)
    app.state.db.dispose()
    executive = token(settings, "--email", "exec@dealdesk.example", "--role", "EXECUTIVE", "--region", "NA")
    assert (await me(settings, executive))["displayName"] == "Demo Executive"
    renamed = token(settings, "--email", "exec@dealdesk.example", "--role", "EXECUTIVE", "--name", "E. Xec")
    assert (await me(settings, renamed))["displayName"] == "E. Xec"  # an explicit --name still renames


async def test_a_dev_token_for_a_new_user_is_named_after_the_email(settings: Settings) -> None:
    app = create_app(settings)
    migrate(app.state.db.engine)
    app.state.db.dispose()
    stranger = token(settings, "--email", "new.person@x.test", "--role", "SELLER")
    assert await me(settings, stranger) == {"email": "new.person@x.test", "displayName": "new.person"}
