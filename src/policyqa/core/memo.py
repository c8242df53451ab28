"""A small bounded, thread-safe cache for per-question work (query vectors, Kiwi analyses,
translated terms): an answer searches the same question several times, and users repeat
questions."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """A thread-safe dict that forgets its oldest entry beyond `size` entries."""

    def __init__(self, size: int = 512) -> None:
        self._items: dict[K, V] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if key not in self._items and len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
