"""The shape every file store accepts for a key."""

from __future__ import annotations


def check_key(key: str) -> str:
    """Return ``key`` if it is a plain relative path; raise ValueError if not.

    Keys are of our own making (``<user>/<attachment-id>``), so a key that
    is empty, absolute, holds a backslash or a NUL, or has an empty, ``.``
    or ``..`` segment is a bug upstream, refused before it reaches a disk
    or a remote store.
    """
    if not key:
        raise ValueError("A file key must not be empty.")
    if "\x00" in key or "\\" in key:
        raise ValueError(f"A file key must not hold a NUL or backslash: {key!r}")
    if key.startswith("/"):
        raise ValueError(f"A file key must be relative: {key!r}")
    if any(part in ("", ".", "..") for part in key.split("/")):
        raise ValueError(f"A file key must not have empty or dot segments: {key!r}")
    return key
