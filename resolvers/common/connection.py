"""Relay connections: edges with cursors, page info, and a totalCount counted only when asked."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import Row

from gateway.core.settings import Settings
from gateway.store import pagination
from gateway.store.pagination import Page, SortKey, page_of

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def total_count(self) -> int:
        return await self.count()


def build(
    rows: Sequence[Row[Any]], nodes: Sequence[Any], *, page: Page, keys: Sequence[SortKey],
    tag: str, count: Callable[[], Awaitable[int]],
) -> Connection[Any]:
    """A connection over `rows` (one more than the page when there is a next page)."""
    shown = list(zip(rows, nodes, strict=True))[: page.first]
    edges = [Edge(cursor=cursor_of(row, keys, tag), node=node) for row, node in shown]
    info = PageInfo(
        has_next_page=len(rows) > page.first,
        has_previous_page=page.after is not None,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, count=count)


def cursor_of(row: Row[Any], keys: Sequence[SortKey], tag: str) -> str:
    """The cursor of `row` in the `keys` ordering."""
    mapping = row._mapping
    return pagination.encode([mapping[key.column.name] for key in keys], keys, tag)


async def paginate(
    settings: Settings, first: int | None, after: str | None, *, keys: Sequence[SortKey], tag: str,
    fetch: Callable[[Page], Awaitable[Sequence[Row[Any]]]], count: Callable[[], Awaitable[int]],
    to_nodes: Callable[[Sequence[Row[Any]]], Sequence[Any]],
) -> Connection[Any]:
    """Validate the page arguments, fetch one page and wrap it as a connection."""
    page = page_of(settings, first, after, keys, tag)
    rows = await fetch(page)
    return build(rows, to_nodes(rows), page=page, keys=keys, tag=tag, count=count)
