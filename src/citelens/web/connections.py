"""Database connections for the web server: one read-only store per worker thread, for that thread's life.

The server runs plain ``def`` endpoints in a thread pool whose idle threads retire and are replaced under
the next burst of traffic. A store opened for a thread must therefore be closed when the thread goes,
not kept in a list until shutdown (that leaked a connection — two file descriptors and its page cache —
per retired thread). Each thread's store sits in a small holder in thread-local storage; when the thread
ends, Python drops its thread-local data, the holder is freed and a ``weakref.finalize`` closes the store.
Whatever is still open at shutdown is closed by :meth:`ThreadStores.close_all`.

Writes (curators' corrections) are rare: they open a short-lived writable store and close it again, so the
readers' connections stay read-only (``mode=ro``) and never take, or wait for, the write lock.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Callable, Iterator

from citelens.store import Store


class _Holder:
    __slots__ = ("store", "__weakref__")

    def __init__(self, store: Store) -> None:
        self.store = store


def _close_quietly(store: Store) -> None:
    with contextlib.suppress(Exception):  # closing a connection that is going away anyway
        store.close()


class ThreadStores:
    """``get()`` returns this thread's store, opening it with ``opener`` on first use."""

    def __init__(self, opener: Callable[[], Store]) -> None:
        self._opener = opener
        self._local = threading.local()
        self._lock = threading.Lock()
        self._finalizers: set[weakref.finalize] = set()

    def get(self) -> Store:
        holder = getattr(self._local, "holder", None)
        if holder is None:
            store = self._opener()
            holder = _Holder(store)
            finalizer = weakref.finalize(holder, _close_quietly, store)
            finalizer.atexit = False
            self._local.holder = holder
            with self._lock:
                self._finalizers = {f for f in self._finalizers if f.alive}
                self._finalizers.add(finalizer)
        return holder.store

    @property
    def open_count(self) -> int:
        """Stores opened by live threads and not yet closed."""
        with self._lock:
            return sum(1 for f in self._finalizers if f.alive)

    def close_all(self) -> None:
        with self._lock:
            finalizers, self._finalizers = self._finalizers, set()
        for f in finalizers:
            f()  # runs at most once; later calls (the thread ending) do nothing
        self._local = threading.local()


@contextlib.contextmanager
def short_lived(opener: Callable[[], Store]) -> Iterator[Store]:
    """A store for one operation (a write), closed right after it."""
    store = opener()
    try:
        yield store
    finally:
        _close_quietly(store)
