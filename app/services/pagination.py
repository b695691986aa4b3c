"""Paging a list: fetch one page, count only when the page cannot tell, shape the answer."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def fetch_page(
    fetch: Callable[[int, int], list[T]], count: Callable[[], int], page: int, limit: int
) -> tuple[list[T], int]:
    """One page of items, ``fetch(skip, limit)``, and the total, counted only when needed.

    A partly filled page tells the total by itself (the skipped items plus its own), which spares
    the count query (a full scan on the embedded server for unindexed filters).
    """
    skip = (page - 1) * limit
    items = fetch(skip, limit)
    if 0 < len(items) < limit:
        return items, skip + len(items)
    return items, count()


def pages_for(total: int, limit: int) -> int:
    """How many pages of ``limit`` items ``total`` items fill (0 when there are none)."""
    return math.ceil(total / limit) if limit > 0 else 0


def paginated(key: str, items: list[Any], total: int, page: int, limit: int) -> dict[str, Any]:
    """``{key: items, total, page, pages}``, the shape of every list endpoint; a page past the end
    is an empty list, not an error."""
    return {key: items, "total": total, "page": page, "pages": pages_for(total, limit)}
