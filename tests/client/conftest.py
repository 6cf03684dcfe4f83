"""The client commands, run as a person would, against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import servers
from e2e.client import ApiClient
from servers import RunningProcess, api_server

# The same commands `tasks-api` gains through add_client_commands.
CLIENT = [servers.TASKS_API]
PASSWORD = "a long enough password"


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningProcess]:
    data_dir = tmp_path_factory.mktemp("client-server")
    with api_server(data_dir, {"SSE_HEARTBEAT_SECONDS": "1"}) as running:
        yield running


@dataclass
class Cli:
    """The client as one person on one computer (their own HOME) runs it."""

    url: str
    home: Path

    @property
    def config_file(self) -> Path:
        return self.home / "config" / "tasks-api" / "client.json"

    def environment(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        environ = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("TASKS_API_", "XDG_"))
        }
        environ.update(
            HOME=str(self.home),
            XDG_CONFIG_HOME=str(self.home / "config"),
            TASKS_API_URL=self.url,
        )
        environ.update(extra or {})
        return environ

    def run(
        self, *args: str, stdin: str = "", env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLIENT, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=self.environment(env),
            timeout=120,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [*CLIENT, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.environment(),
        )

    def json(self, *args: str) -> dict:
        done = self.run(*args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def token(self) -> str:
        return json.loads(self.config_file.read_text())["token"]


@dataclass
class Person:
    cli: Cli
    email: str
    api: ApiClient


@pytest.fixture
def cli(server: RunningProcess, tmp_path: Path) -> Cli:
    home = tmp_path / "home"
    home.mkdir()
    return Cli(server.url, home)


@pytest.fixture
def person(cli: Cli) -> Person:
    """Registered through the API, logged in through the client."""
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    ApiClient(cli.url).call(
        "POST",
        "/auth/register",
        201,
        json={"email": email, "password": PASSWORD, "name": "Client"},
    )
    done = cli.run("login", "--email", email, "--password-stdin", stdin=PASSWORD)
    assert done.returncode == 0, done.stderr
    return Person(cli, email, ApiClient(cli.url, cli.token()))


@pytest.fixture
def task_id(person: Person) -> str:
    project = person.cli.json("projects", "create", "Paperwork")
    task = person.cli.json("tasks", "create", "--project", project["id"], "Read it")
    return task["id"]
