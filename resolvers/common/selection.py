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


def arguments_of(info: Info[Any, Any], name: str) -> list[dict[str, Any]]:
    """The arguments of each subfield called `name` that the field being resolved selects (aliases too)."""
    found: list[dict[str, Any]] = []
    for field in info.selected_fields:
        for child in field.selections:
            _collect(child, name, found)
    return found


def _collect(selection: Selection, name: str, found: list[dict[str, Any]]) -> None:
    if isinstance(selection, SelectedField):
        if selection.name == name:
            found.append(dict(selection.arguments))
        return
    for child in selection.selections:
        _collect(child, name, found)
