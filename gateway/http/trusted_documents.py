"""Trusted documents: the operations of an Apollo persisted-query manifest, by the SHA-256 of their body."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

FORMAT = "apollo-persisted-query-manifest"


def sha256_hex(document: str) -> str:
    """The hex SHA-256 of a document's UTF-8 text: its APQ hash and trusted-document id."""
    return hashlib.sha256(document.encode()).hexdigest()


def load(path: str | None) -> Mapping[str, str]:
    """Body by id of the manifest at `path` (none without one); a bad manifest raises ValueError."""
    if path is None:
        return {}
    try:
        manifest = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"DEAL_DESK_TRUSTED_DOCUMENTS_FILE {path}: not readable JSON ({error})") from error
    return operations(manifest, path)


def operations(manifest: Any, path: str) -> dict[str, str]:
    """The checked operations of a manifest: each `id` must be the SHA-256 of its `body`."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or manifest.get("version") != 1:
        raise ValueError(f"{path}: not an {FORMAT} of version 1")
    found: dict[str, str] = {}
    for index, operation in enumerate(manifest.get("operations") or []):
        body = operation.get("body") if isinstance(operation, dict) else None
        if not isinstance(body, str) or operation.get("id") != sha256_hex(body):
            raise ValueError(f"{path}: operation {index} needs a string body and its SHA-256 hex as id")
        found[operation["id"]] = body
    if not found:
        raise ValueError(f"{path}: the manifest has no operation")
    return found
