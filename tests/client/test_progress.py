"""The progress bar and the event parser, without a server."""

from __future__ import annotations

import io

from tasks_api.entrypoints.client.api import parse_events
from tasks_api.entrypoints.client.follow import ProgressBar, stage_words


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_into_a_file_the_bar_writes_a_line_only_when_it_changes() -> None:
    out = io.StringIO()
    bar = ProgressBar(out, "scan.png")

    bar.show(10, "ocr")
    bar.show(10, "ocr")
    bar.show(100, "succeeded")
    bar.close()

    assert out.getvalue().splitlines() == [
        "scan.png [##----------------------]  10% ocr",
        "scan.png [########################] 100% succeeded",
    ]


def test_on_a_terminal_the_bar_is_redrawn_in_place() -> None:
    out = Terminal()
    bar = ProgressBar(out, "a")

    bar.show(50, "summarizing")
    bar.show(100, "done")
    bar.close()

    _, first, last = out.getvalue().split("\r")
    assert last.endswith("100% done       \n")
    assert len(last.rstrip("\n")) == len(first), "the longer line is covered"


def test_events_are_parsed_and_comments_skipped() -> None:
    lines = [
        "retry: 3000",
        "",
        ": keep-alive",
        "",
        "id: 4",
        "event: progress",
        'data: {"percent": 40}',
        "",
    ]

    events = list(parse_events(iter(lines)))

    assert [(e.id, e.type, e.data) for e in events] == [
        (4, "progress", {"percent": 40})
    ]


def test_the_stage_reads_as_words() -> None:
    ocr = {"status": "running", "stage": "ocr", "pages_done": 2, "pages_total": 6}
    stopping = {"status": "running", "stage": "ocr", "cancel_requested": True}

    assert stage_words(ocr) == "ocr, page 2 of 6 done"
    assert stage_words(stopping) == "stopping"
    assert stage_words({"status": "cancelled"}) == "cancelled"
