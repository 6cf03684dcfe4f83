"""Reading the numbered migration files shipped inside this package.

Each store has its own folder (``sqlite/*.sql``, ``mongo/*.json``). A
migration is named after its file without the suffix, and the names sort
in the order the migrations are applied: ``0001_initial``, ``0002_...``.
"""

from __future__ import annotations

import importlib.resources
import re
from dataclasses import dataclass

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+$")


@dataclass(frozen=True)
class Migration:
    """One migration file: its name and its whole text."""

    name: str
    text: str


def load(folder: str, suffix: str) -> list[Migration]:
    """The migrations in ``folder`` whose files end in ``suffix``, in order.

    A file whose name does not start with four digits and an underscore,
    or two files with the same number, are mistakes to fix rather than
    files to skip quietly, so either raises ``ValueError``.
    """
    root = importlib.resources.files(__package__).joinpath(folder)
    migrations = []
    for entry in root.iterdir():
        if not entry.name.endswith(suffix):
            continue
        name = entry.name.removesuffix(suffix)
        if not _NAME.match(name):
            raise ValueError(f"migration file badly named: {entry.name!r}")
        migrations.append(Migration(name, entry.read_text(encoding="utf-8")))

    migrations.sort(key=lambda migration: migration.name)
    numbers = [migration.name[:4] for migration in migrations]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"two {folder} migrations share a number: {numbers}")
    return migrations
