"""Uploading a file and following its job, as people and scripts do."""

from __future__ import annotations

import json
from pathlib import Path

from e2e.conftest import scan, scanned_pdf, words_found

from client.conftest import Cli, Person

NOTE = b"Minutes of the meeting. The budget was approved. We meet on Friday.\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_upload_shows_progress_on_stderr_and_prints_the_summary(
    person: Person, task_id: str, tmp_path: Path
) -> None:
    note = write(tmp_path, "minutes.txt", NOTE)

    done = person.cli.run("upload", str(note), "--task", task_id)

    assert done.returncode == 0, done.stderr
    assert "[########################] 100% succeeded" in done.stderr
    assert done.stdout.strip()
    assert words_found(done.stdout, NOTE.decode()) == 1.0


def test_upload_of_a_scan_with_json_prints_the_finished_job(
    person: Person, task_id: str, tmp_path: Path
) -> None:
    data, text = scan()
    page = write(tmp_path, "scan.png", data)

    done = person.cli.run("upload", str(page), "--task", task_id, "--json", "-q")
    answer = json.loads(done.stdout)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert answer["attachment"]["filename"] == "scan.png"
    assert answer["job"]["status"] == "succeeded"
    assert answer["job"]["progress"] == 100
    assert words_found(text, answer["job"]["text"]) > 0.95
    assert answer["job"]["summary"]


def test_upload_without_following_prints_the_job_for_follow_and_job(
    person: Person, task_id: str, tmp_path: Path
) -> None:
    note = write(tmp_path, "minutes.txt", NOTE)

    sent = person.cli.run("upload", str(note), "--task", task_id, "--no-follow")
    job_id = sent.stdout.strip()
    followed = person.cli.run("follow", job_id, "--text")
    shown = person.cli.json("job", job_id)

    assert sent.returncode == 0, sent.stderr
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout.startswith(NOTE.decode().strip())
    assert shown["id"] == job_id
    assert shown["status"] == "succeeded"


def test_a_job_cancelled_while_followed_exits_1(
    person: Person, task_id: str, tmp_path: Path
) -> None:
    data, _ = scanned_pdf(tmp_path, pages=6)
    pdf = write(tmp_path, "long.pdf", data)
    job_id = person.cli.run(
        "upload", str(pdf), "--task", task_id, "--no-follow"
    ).stdout.strip()

    follower = person.cli.start("follow", job_id)
    assert follower.stderr is not None
    for line in follower.stderr:
        if "running" in line or "%" in line:
            break
    person.api.call("DELETE", f"/jobs/{job_id}/cancel", 200)
    _, stderr = follower.communicate(timeout=60)

    assert follower.returncode == 1
    assert f"job {job_id} was cancelled" in stderr


def test_a_failed_job_exits_1_and_says_why(
    person: Person, task_id: str, tmp_path: Path
) -> None:
    broken = write(tmp_path, "broken.pdf", b"%PDF-1.4\n" + b"not really a pdf " * 20)

    done = person.cli.run("upload", str(broken), "--task", task_id)
    shown = person.cli.run("job", "--json", done.stderr.split("job ")[1].split()[0])

    assert done.returncode == 1
    assert "failed:" in done.stderr
    assert json.loads(shown.stdout)["status"] == "failed"
    assert shown.returncode == 1


def test_a_job_that_is_not_yours_exits_3(cli: Cli, person: Person) -> None:
    done = person.cli.run("follow", "not-a-job")

    assert done.returncode == 3
    assert "No such job" in done.stderr
