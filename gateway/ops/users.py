"""What the dev-token command needs to know about the users already in the store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from auth.dev import subject
from gateway.core.settings import Settings
from gateway.store import user as user_store
from gateway.store.database import Database


def display_name(settings: Settings, email: str) -> str | None:
    """The stored display name of the dev user `email`; None when the store has no such user (or no store)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return None  # no store yet, and asking would create an empty file
    db = Database(settings.database_url, settings)
    try:
        with db.engine.connect() as connection:
            row = user_store.get_by_sub(connection, sub=subject(email))
    except SQLAlchemyError:  # not migrated, or not reachable: the token is made all the same
        return None
    finally:
        db.dispose()
    return str(row.display_name) if row is not None else None
