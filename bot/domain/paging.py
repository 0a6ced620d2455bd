"""One page type for every app's lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

PAGE_SIZE = 10


def last_page(total: int, size: int = PAGE_SIZE) -> int:
    """The index of the last page (0 for an empty list)."""
    return max(0, (total - 1) // size)


def clamp_page(page: int, total: int, size: int = PAGE_SIZE) -> int:
    """A page asked for past the end shows the last one."""
    return min(max(page, 0), last_page(total, size))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    page: int  # 0-based
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return last_page(self.total, self.size) + 1

    @property
    def has_next(self) -> bool:
        return (self.page + 1) * self.size < self.total

    @property
    def has_previous(self) -> bool:
        return self.page > 0
