"""The `[databricks]` extra: its modules are imported on demand, or a ConfigError names the extra."""

from __future__ import annotations

from types import ModuleType

from gateway.core.settings import ConfigError

PACKAGES = ("databricks", "azure")
"""Top-level packages the extra installs (databricks-sqlalchemy, -sql-connector, -sdk; azure-identity)."""
INSTALL = "pip install 'deal-desk-gateway[databricks]'"


def databricks(needed_for: str) -> ModuleType:
    """gateway.store.databricks, which loads the Databricks packages; ConfigError when they are missing."""
    try:
        from gateway.store import databricks as module
    except ModuleNotFoundError as missing:
        if (missing.name or "").split(".")[0] not in PACKAGES:
            raise
        raise ConfigError(f"{needed_for} needs the Databricks packages: {INSTALL}") from None
    return module
