"""Values computed once per object and kept while that object lives.

Problems (:class:`~territory_engine.problem.data.ProblemData`, frozen) and loaded
tables are read-only, so what is derived from them alone (a unit graph, the
measures relative to their targets) need not be derived again on every call.
The cache is keyed by the object itself through a weak reference: a new object,
even an equal one, is computed afresh, and an entry goes when its object does.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")


def per_object(kept: int = 8) -> Callable[[Callable[[Any], R]], Callable[[Any], R]]:
    """Decorate ``fn(obj)`` to compute once per live ``obj`` (at most ``kept`` objects).

    The value is shared between callers: it must be treated as read-only.
    """

    def wrap(fn: Callable[[Any], R]) -> Callable[[Any], R]:
        cache: dict[int, tuple[weakref.ref, R]] = {}
        lock = threading.Lock()

        @functools.wraps(fn)
        def cached(obj: Any) -> R:
            hit = cache.get(id(obj))
            if hit is not None and hit[0]() is obj:
                return hit[1]
            value = fn(obj)
            with lock:
                for key in [k for k, (ref, _) in cache.items() if ref() is None]:
                    del cache[key]
                while len(cache) >= kept:
                    del cache[next(iter(cache))]
                cache[id(obj)] = (weakref.ref(obj), value)
            return value

        return cached

    return wrap
