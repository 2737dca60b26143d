"""Plain records the loaders return where one row comes with rows it was read with."""

from __future__ import annotations

from typing import NamedTuple

from gateway.store.rows import RowLike


class Joined(NamedTuple):
    """A row and the row of the user it names (an action's actor, a change's author, a decider)."""

    row: RowLike
    user: RowLike | None


class ApprovalRecord(NamedTuple):
    """An approval row, its decider's row, and its actions when they were read with it."""

    row: RowLike
    decided_by: RowLike | None
    actions: list[Joined] | None
