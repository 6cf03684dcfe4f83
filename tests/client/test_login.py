"""Logging in and out, and where the server and token come from."""

from __future__ import annotations

import json
import stat
import uuid

from e2e.client import ApiClient
from servers import free_port

from client.conftest import PASSWORD, Cli, Person


def test_login_saves_the_token_and_server_in_a_file_only_its_owner_reads(
    person: Person,
) -> None:
    saved = json.loads(person.cli.config_file.read_text())
    mode = stat.S_IMODE(person.cli.config_file.stat().st_mode)

    assert mode == 0o600
    assert saved["url"] == person.cli.url
    assert saved["email"] == person.email
    assert person.api.call("GET", "/auth/me", 200).json()["email"] == person.email


def test_commands_use_the_saved_login(person: Person) -> None:
    person.cli.run("projects", "create", "Saved login works")

    listed = person.cli.run("projects", "list")

    assert listed.returncode == 0, listed.stderr
    assert "Saved login works" in listed.stdout


def test_a_saved_token_is_never_sent_to_another_server(person: Person) -> None:
    elsewhere = f"http://127.0.0.1:{free_port()}"

    done = person.cli.run("projects", "list", env={"TASKS_API_URL": elsewhere})

    assert done.returncode == 3
    assert f"not logged in to {elsewhere}" in done.stderr


def test_the_token_can_come_from_the_environment_or_an_option(
    person: Person, cli: Cli
) -> None:
    token = person.cli.token()
    person.cli.config_file.unlink()

    by_variable = cli.run("projects", "list", env={"TASKS_API_TOKEN": token})
    by_option = cli.run("projects", "list", "--token", token, "--url", cli.url)

    assert by_variable.returncode == 0, by_variable.stderr
    assert by_option.returncode == 0, by_option.stderr


def test_a_wrong_password_exits_3_with_the_servers_words(cli: Cli) -> None:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    ApiClient(cli.url).call(
        "POST",
        "/auth/register",
        201,
        json={"email": email, "password": PASSWORD, "name": "Client"},
    )

    done = cli.run("login", "--email", email, "--password-stdin", stdin="wrong!!!!")

    assert done.returncode == 3
    assert "password" in done.stderr.lower()
    assert not cli.config_file.exists()


def test_an_unreachable_server_exits_3(cli: Cli) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"

    done = cli.run("projects", "list", "--url", nowhere, "--token", "t")

    assert done.returncode == 3
    assert f"cannot reach {nowhere}" in done.stderr


def test_register_creates_an_account_that_can_log_in(cli: Cli) -> None:
    email = f"{uuid.uuid4().hex[:12]}@example.com"

    made = cli.run(
        "register",
        "--email",
        email,
        "--name",
        "Ada",
        "--password-stdin",
        stdin=PASSWORD,
    )
    login = cli.run("login", "--email", email, "--password-stdin", stdin=PASSWORD)

    assert made.returncode == 0, made.stderr
    assert login.returncode == 0, login.stderr
    assert f"as {email}" in login.stdout


def test_logout_forgets_the_token_but_keeps_it_valid_elsewhere(
    person: Person,
) -> None:
    done = person.cli.run("logout")
    after = person.cli.run("projects", "list")

    assert done.returncode == 0, done.stderr
    assert "token" not in json.loads(person.cli.config_file.read_text())
    assert after.returncode == 3
    assert "not logged in" in after.stderr
    person.api.call("GET", "/auth/me", 200)


def test_logout_everywhere_revokes_the_token_on_the_server(person: Person) -> None:
    done = person.cli.run("logout", "--everywhere")

    assert done.returncode == 0, done.stderr
    person.api.call("GET", "/auth/me", 401)


def test_an_expired_or_revoked_token_says_to_log_in_again(person: Person) -> None:
    person.api.call("POST", "/auth/logout", 204)

    done = person.cli.run("projects", "list")

    assert done.returncode == 3
    assert "tasks-api login" in done.stderr


def test_help_documents_the_exit_codes(cli: Cli) -> None:
    done = cli.run("upload", "--help")

    assert done.returncode == 0
    assert "exit codes:" in done.stdout
    for line in ("0  success", "1  the job failed", "2  usage", "3  API"):
        assert line in done.stdout


def test_usage_errors_exit_2(person: Person) -> None:
    bad_date = person.cli.run(
        "tasks", "list", "--project", "p", "--due-from", "2030-13-01"
    )
    no_file = person.cli.run("upload", "no-such-file.png", "--task", "t")
    bad_url = person.cli.run("projects", "list", "--url", "ftp://example.com")

    assert bad_date.returncode == 2
    assert "YYYY-MM-DD" in bad_date.stderr
    assert no_file.returncode == 2
    assert "no such file" in no_file.stderr
    assert bad_url.returncode == 2
