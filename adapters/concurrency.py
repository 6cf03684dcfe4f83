"""Real OS threads and cross-thread wake-ups that also work under gevent.

Under gunicorn's gevent worker the standard library is patched, so
``threading.Thread`` makes a greenlet. CPU work (OpenCV, Argon2) in a
greenlet stalls every other greenlet, including open event streams, so it
goes to a pool of real threads instead. A result or event handed back from
such a thread must wake the waiting greenlet through the hub's thread-safe
``async_`` watcher; a plain ``threading.Event`` would not.
"""

from __future__ import annotations

import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any, Protocol


def gevent_is_active() -> bool:
    """True when gevent has patched the threading module in this process."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def native_thread_pool(workers: int, name: str) -> Executor:
    """A pool of real threads, whether or not gevent patched the process."""
    if gevent_is_active():
        from gevent.threadpool import ThreadPoolExecutor as NativePoolExecutor

        return NativePoolExecutor(max_workers=workers)
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)


class Wakeup(Protocol):
    def set(self) -> None:
        """Wake the waiter; safe to call from any thread."""

    def wait(self, timeout: float) -> bool:
        """Block the caller until set or ``timeout``; True if set."""

    def clear(self) -> None: ...

    def close(self) -> None: ...


class _ThreadWakeup:
    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        return self._event.wait(timeout)

    def clear(self) -> None:
        self._event.clear()

    def close(self) -> None:
        pass


class _GeventWakeup:
    """A gevent Event set through the hub's async watcher from any thread."""

    def __init__(self) -> None:
        import gevent
        from gevent.event import Event

        self._event = Event()
        self._watcher: Any = gevent.get_hub().loop.async_()
        self._watcher.start(self._event.set)

    def set(self) -> None:
        self._watcher.send()

    def wait(self, timeout: float) -> bool:
        return bool(self._event.wait(timeout))

    def clear(self) -> None:
        self._event.clear()

    def close(self) -> None:
        self._watcher.stop()
        self._watcher.close()


def make_wakeup() -> Wakeup:
    """A wake-up for the calling greenlet or thread to wait on."""
    return _GeventWakeup() if gevent_is_active() else _ThreadWakeup()
