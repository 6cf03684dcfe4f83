"""The tasks-api command's migrate, and the log line formats."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tasks_api.entrypoints.logs import JsonFormatter, TextFormatter

TASKS_API = str(Path(sys.executable).with_name("tasks-api"))


def _tasks_api(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TASKS_API, *args],
        env={"DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_migrate_applies_each_migration_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"

    first = _tasks_api("migrate", data_dir=data_dir)
    second = _tasks_api("migrate", data_dir=data_dir)

    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("applied: 0001_initial, 0002")
    assert second.stdout.strip() == "nothing to apply"


def test_every_command_explains_itself(tmp_path: Path) -> None:
    for command in ("serve", "migrate", "worker", "upload"):
        help_text = _tasks_api(command, "--help", data_dir=tmp_path)

        assert help_text.returncode == 0
        assert len(help_text.stdout.splitlines()) > 3, command


def test_a_json_log_line_carries_the_request_fields() -> None:
    record = logging.makeLogRecord(
        {
            "name": "tasks_api.access",
            "levelname": "INFO",
            "msg": "GET %s %d",
            "args": ("/healthz", 200),
            "request_id": "abc",
            "duration_ms": 1.5,
        }
    )

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "GET /healthz 200"
    assert line["request_id"] == "abc" and line["duration_ms"] == 1.5
    assert line["level"] == "INFO" and line["logger"] == "tasks_api.access"


def test_a_text_log_line_ends_with_its_request_id_before_any_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = logging.makeLogRecord(
            {
                "name": "tasks_api",
                "msg": "Failed",
                "levelname": "ERROR",
                "request_id": "abc",
            }
        )
        failed.exc_info = sys.exc_info()
    plain = logging.makeLogRecord(
        {"name": "tasks_api", "msg": "Started", "levelname": "INFO"}
    )

    failed_lines = TextFormatter().format(failed).splitlines()
    plain_line = TextFormatter().format(plain)

    assert failed_lines[0].endswith("ERROR tasks_api: Failed [request abc]")
    assert failed_lines[-1] == "ValueError: boom"
    assert plain_line.endswith("INFO tasks_api: Started")


@settings(max_examples=300)
@given(
    moments=st.lists(
        st.floats(min_value=0, max_value=4e9, allow_nan=False), min_size=1, max_size=5
    )
)
def test_a_text_line_is_stamped_as_logging_stamps_it(moments: list[float]) -> None:
    ours = TextFormatter()
    standard = logging.Formatter("%(asctime)s")

    # One formatter for every moment, so a second it remembers is reused
    # or replaced, as between the lines of a running process.
    for moment in sorted(moments) + moments:
        record = logging.makeLogRecord({"msg": "x"})
        record.created = moment
        record.msecs = moment % 1 * 1000

        assert ours.formatTime(record) == standard.formatTime(record)
