"""Schemathesis against the running service and its own OpenAPI document.

The service runs as it does for users (``tasks-api serve``: gunicorn,
gevent, SQLite, the in-process worker). Schemathesis reads
``/api/v1/openapi.json`` from it and runs every phase against every
operation: examples (the document has none), coverage (boundary and
invalid values from each schema), fuzzing, and the stateful phase, whose
scenarios follow links from one operation's response to the next.
flask-smorest writes no OpenAPI links, and the API sends no Location
headers; Schemathesis infers the links from the schemas instead
(dependency analysis: ``Project.id`` feeds ``{project_id}``, an upload's
``job.id`` feeds ``{job_id}``, about 250 links in all), enough for create,
read, update and delete chains without listing any by hand.

Status codes are checked against each operation's own list: the hooks
drop the ``default`` response flask-smorest adds to every operation, with
which any status would conform. The event stream is checked like the
rest: Schemathesis parses it and validates each event against the
documented event schema, and a stream ends after its job's final status,
so it is read whole within the request timeout.

Two users take part. Alice's token signs every request; Bob's is the
peer for ``object_level_authorization``, which replays Alice's successful
reads as Bob and fails if he gets her objects. Bob also owns one thing of
each kind, whose ids ``schemathesis_hooks.py`` slips into Alice's
requests and forbids in any answer. Logging out and changing the password
revoke a user's tokens, so each runs apart, as a user of its own.

Any failure or error fails the test with Schemathesis' own report. Set
CONTRACT_SEED to explore with another seed (the run prints the one used)
and CONTRACT_EXAMPLES for more examples per operation than 15.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from servers import RunningProcess, api_server

SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))
TESTS = Path(__file__).resolve().parents[1]
SEED = int(os.environ.get("CONTRACT_SEED", "20261203"))
# Per operation and phase; with the coverage phase, about 1,500 requests
# in all, well inside two minutes on two cores.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "15"))
STATEFUL_EXAMPLES = 4 * MAX_EXAMPLES
REQUEST_TIMEOUT_SECONDS = 10
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
    "foreign_ids_stay_hidden",
)
# Each of these revokes every token its caller holds.
TOKEN_REVOKING = ("/api/v1/auth/logout", "/api/v1/auth/password")


@dataclass(frozen=True)
class User:
    name: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Report:
    """One ``schemathesis run``: its output, exit status and JSON report."""

    output: str
    exit_status: int
    summary: dict

    @property
    def findings(self) -> list:
        return self.summary["failures"] + self.summary["errors"]

    def line(self) -> str:
        operations = self.summary["operations"]
        cases = self.summary["test_cases"]
        phases = ", ".join(
            f"{name} {phase['status']}"
            for name, phase in self.summary["phases"].items()
        )
        return (
            f"{operations['tested']}/{operations['selected']} operations, "
            f"{cases['generated']} cases, {len(self.summary['failures'])} "
            f"failure kinds, {len(self.summary['errors'])} errors; {phases}; "
            f"seed {self.summary['seed']}"
        )


def sign_up(url: str, name: str) -> User:
    email, password = f"{name}@example.com", f"{name} has a long password"
    created = requests.post(
        f"{url}/api/v1/auth/register",
        json={"email": email, "password": password, "name": name.title()},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    login = requests.post(
        f"{url}/api/v1/auth/login",
        json={"email": email, "password": password},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    return User(name, login.json()["access_token"])


def one_of_each(url: str, owner: User) -> dict[str, str]:
    """A project, task, attachment and job of ``owner``'s, by parameter name."""
    project = requests.post(
        f"{url}/api/v1/projects",
        json={"name": "Bob's"},
        headers=owner.headers,
        timeout=30,
    ).json()
    task = requests.post(
        f"{url}/api/v1/projects/{project['id']}/tasks",
        json={"title": "Bob's"},
        headers=owner.headers,
        timeout=30,
    ).json()
    upload = requests.post(
        f"{url}/api/v1/tasks/{task['id']}/attachments",
        files={"file": ("note.txt", b"Bob keeps a short note here.")},
        headers=owner.headers,
        timeout=30,
    ).json()
    return {
        "project_id": project["id"],
        "task_id": task["id"],
        "attachment_id": upload["attachment"]["id"],
        "job_id": upload["job"]["id"],
    }


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    with api_server(tmp_path_factory.mktemp("contract-service")) as server:
        yield server


def run_schemathesis(
    service: RunningProcess,
    workdir: Path,
    users: list[User],
    peers: list[str],
    foreign_ids: dict[str, str],
    paths: dict[str, tuple[str, ...]],
) -> Report:
    """Run the Schemathesis command line as ``users[0]``, against ``paths``."""
    assert Path(SCHEMATHESIS).exists(), "schemathesis is missing: pip install it"
    workdir.mkdir(parents=True, exist_ok=True)
    auth = {
        "auth": [
            {
                "name": user.name,
                "fixedHeaders": [
                    {"name": "Authorization", "value": f"Bearer {user.token}"}
                ],
            }
            for user in users
        ]
    }
    (workdir / "users.json").write_text(json.dumps(auth))
    config = [
        "[auth.wfc]",
        'path = "users.json"',
        f'user = "{users[0].name}"',
        f"peers = {json.dumps(peers)}" if len(peers) > 1 else "",
        "",
        # Scenarios are cheap: a few requests each, ids from real answers.
        "[phases.stateful.generation]",
        f"max-examples = {STATEFUL_EXAMPLES}",
        "",
        "[checks]",
        "enabled = false",
        *(f"[checks.{check}]\nenabled = true" for check in CHECKS),
    ]
    (workdir / "schemathesis.toml").write_text("\n".join(config) + "\n")

    filters = [
        f"--{kind}-path={path}" for kind, chosen in paths.items() for path in chosen
    ]
    command = [
        SCHEMATHESIS,
        "--config-file=schemathesis.toml",
        "--no-color",
        "run",
        f"{service.url}/api/v1/openapi.json",
        *filters,
        f"--max-examples={MAX_EXAMPLES}",
        f"--seed={SEED}",
        f"--request-timeout={REQUEST_TIMEOUT_SECONDS}",
        "--generation-database=none",
        "--output-truncate=true",
        "--report=json,junit",
        "--report-json-path=report.json",
        "--report-junit-path=junit.xml",
    ]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": "contract.schemathesis_hooks",
        "CONTRACT_FOREIGN_IDS": json.dumps(foreign_ids),
    }
    finished = subprocess.run(
        command,
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )

    output = finished.stdout + finished.stderr
    (workdir / "output.txt").write_text(output)
    report_path = workdir / "report.json"
    assert report_path.exists(), output[-5000:]
    return Report(output, finished.returncode, json.loads(report_path.read_text()))


def assert_clean(report: Report) -> None:
    print(report.line())
    assert report.findings == [], report.output[-20_000:]
    assert report.exit_status == 0, report.output[-20_000:]
    operations = report.summary["operations"]
    assert operations["tested"] == operations["selected"] > 0, report.output
    assert report.summary["complete"], report.output


def test_every_operation_keeps_its_contract_for_alice_and_bobs_things_stay_his(
    service: RunningProcess, tmp_path: Path
) -> None:
    alice, bob = sign_up(service.url, "alice"), sign_up(service.url, "bob")
    bobs = one_of_each(service.url, bob)

    report = run_schemathesis(
        service,
        tmp_path / "alice",
        users=[alice, bob],
        peers=["alice", "bob"],
        foreign_ids=bobs,
        paths={"exclude": TOKEN_REVOKING},
    )

    assert_clean(report)
    phases = report.summary["phases"]
    assert phases["coverage"]["status"] == "success", report.output
    assert phases["fuzzing"]["status"] == "success", report.output
    assert phases["stateful"]["status"] == "success", report.output
    assert report.summary["operations"]["selected"] >= 26


@pytest.mark.parametrize(
    ("path", "name"), [(TOKEN_REVOKING[0], "carol"), (TOKEN_REVOKING[1], "dave")]
)
def test_each_token_revoking_operation_keeps_its_contract(
    service: RunningProcess, tmp_path: Path, path: str, name: str
) -> None:
    # A user of its own: once the first call succeeds, the rest get 401.
    user = sign_up(service.url, name)

    report = run_schemathesis(
        service,
        tmp_path / user.name,
        users=[user],
        peers=[],
        foreign_ids={},
        paths={"include": (path,)},
    )

    assert_clean(report)
    assert report.summary["operations"]["selected"] == 1
