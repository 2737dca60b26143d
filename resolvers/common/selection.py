"""What the client selected under the field being resolved, for resolvers that read ahead."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection


def selects(info: Info[Any, Any], name: str) -> bool:
    """True when the field being resolved selects a subfield called `name` (also inside fragments)."""
    return any(_names(child, name) for field in info.selected_fields for child in field.selections)


def _names(selection: Selection, name: str) -> bool:
    if isinstance(selection, SelectedField):
        return selection.name == name
    return any(_names(child, name) for child in selection.selections)
