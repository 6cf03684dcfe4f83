"""What the commands print: JSON or tables on stdout, messages on stderr."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def wants_json(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "json", False))


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def say(message: str) -> None:
    """A message for the person, on stderr, after the program's name."""
    print(f"tasks-api: {message}", file=sys.stderr)


def table(rows: list[list[str]], headings: list[str]) -> None:
    """Columns as wide as their widest cell; nothing when there are no rows."""
    if not rows:
        return
    widths = [
        max(len(row[column]) for row in [headings, *rows])
        for column in range(len(headings))
    ]
    for row in [headings, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=True)]
        print("  ".join(cells).rstrip())


def shorten(text: str, width: int = 60) -> str:
    """The text on one line, cut to ``width`` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
