"""Real OS threads and cross-thread wake-ups that also work under gevent.

Under gunicorn's gevent worker the standard library is patched, so
``threading.Thread`` makes a greenlet. CPU work (OpenCV) in a greenlet
stalls every other greenlet, including open event streams, so it runs on
real threads instead. What those threads share with greenlets is guarded
by real locks, held for a few operations only; an event handed back to a
greenlet wakes it through the hub's thread-safe ``async_`` watcher. gevent
objects (patched locks, queues, pools) made on one thread are never waited
on from another: that is what stalls a stream for good.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


def gevent_is_active() -> bool:
    """True when gevent has patched the threading module in this process."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def thread_lock() -> threading.Lock:
    """A real lock, even where gevent patched ``threading``.

    For state shared by greenlets and real threads and held only for a few
    dict or list operations: gevent's patched lock, taken in one thread and
    waited on in another, can leave the waiter asleep for good.
    """
    if gevent_is_active():
        from gevent import monkey

        return monkey.get_original("_thread", "allocate_lock")()
    return threading.Lock()


def thread_rlock() -> threading.RLock:
    """A real reentrant lock, even where gevent patched ``threading``."""
    if gevent_is_active():
        from gevent import monkey

        return monkey.get_original("threading", "_CRLock")()
    return threading.RLock()


def off_the_loop(function: Callable[..., T], *args: Any) -> T:
    """Call ``function`` on a real thread when gevent runs this process.

    The calling greenlet waits; every other greenlet keeps running. Outside
    gevent it is a plain call. For short CPU work that releases the GIL,
    such as Argon2, which would otherwise stall every open stream.
    """
    if gevent_is_active():
        import gevent

        return gevent.get_hub().threadpool.apply(function, args)
    return function(*args)


def start_native_thread(target: Callable[[], None]) -> None:
    """Run ``target`` on a new real thread, which dies with the process."""
    if gevent_is_active():
        from gevent import monkey

        monkey.get_original("_thread", "start_new_thread")(target, ())
        return
    threading.Thread(target=target, daemon=True).start()


def native_sleep(seconds: float) -> None:
    """Sleep the calling real thread without involving any gevent hub."""
    if gevent_is_active():
        from gevent import monkey

        monkey.get_original("time", "sleep")(seconds)
        return
    time.sleep(seconds)


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
