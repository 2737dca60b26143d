"""The Node interface: every object with a stable, globally unique id (a UUIDv7)."""

from __future__ import annotations

import strawberry


@strawberry.interface
class Node:
    id: strawberry.ID
