"""What SqliteStorage adds to the contract: the file, its settings, sharing."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from tasks_api.adapters.storage import sqlite as sqlite_module
from tasks_api.adapters.storage.sqlite import SqliteStorage, _statements
from tasks_api.domain.listing import PageRequest, TaskFilter, project_item, task_item
from tasks_api.domain.model import Project, Task, User
from tasks_api.migrations.loader import load

MIGRATIONS = [migration.name for migration in load("sqlite", ".sql")]


def make_user(storage: SqliteStorage, email: str = "ada@example.com") -> User:
    user = User(email=email, name="Ada", password_hash="h")
    storage.users.add(user)
    return user


def test_the_first_migration_makes_the_schema_and_is_recorded_once(
    tmp_path: Path,
) -> None:
    storage = SqliteStorage(tmp_path / "tasks.db")

    first = storage.migrate()
    second = storage.migrate()

    assert first == MIGRATIONS
    assert first[0] == "0001_initial"
    assert second == []
    with storage.database.connection() as conn:
        names = [row["name"] for row in conn.execute("SELECT * FROM schema_migrations")]
        tables = {
            row["name"]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }
    assert names == MIGRATIONS
    assert {"users", "projects", "tasks", "jobs", "job_events"} <= tables
    storage.close()


def test_what_was_stored_is_there_after_closing_and_opening_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "tasks.db"
    storage = SqliteStorage(path)
    storage.migrate()
    user = make_user(storage)
    project = Project(owner_id=user.id, name="Kept")
    storage.projects.add(project)
    storage.close()

    reopened = SqliteStorage(path)

    assert reopened.migrate() == []
    assert reopened.users.get_by_email("ada@example.com") == user
    assert reopened.projects.get(user.id, project.id) == project
    reopened.close()


def test_every_connection_runs_in_wal_mode_with_the_agreed_settings(
    tmp_path: Path,
) -> None:
    storage = SqliteStorage(tmp_path / "tasks.db", busy_timeout=2.5)

    with storage.database.connection() as conn:
        settings = {
            name: conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }

    assert settings == {
        "journal_mode": "wal",
        "synchronous": 1,  # NORMAL
        "foreign_keys": 1,
        "busy_timeout": 2500,
    }
    storage.close()


def test_stores_migrating_one_file_at_once_apply_each_migration_once(
    tmp_path: Path,
) -> None:
    stores = [SqliteStorage(tmp_path / "tasks.db") for _ in range(4)]
    start = threading.Barrier(len(stores))
    results: list[list[str]] = []

    def migrate(store: SqliteStorage) -> None:
        start.wait()
        results.append(store.migrate())

    threads = [threading.Thread(target=migrate, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    applied = [name for result in results for name in result]
    assert len(results) == len(stores)
    assert sorted(applied) == MIGRATIONS
    for store in stores:
        store.close()


def _migrate_in_child(path: str, start: object, out: object) -> None:
    start.wait()  # type: ignore[attr-defined]
    storage = SqliteStorage(path)
    out.put(storage.migrate())  # type: ignore[attr-defined]
    storage.close()


def test_processes_migrating_one_file_at_once_apply_each_migration_once(
    tmp_path: Path,
) -> None:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(3)
    out = context.Queue()
    path = str(tmp_path / "tasks.db")
    children = [
        context.Process(target=_migrate_in_child, args=(path, start, out))
        for _ in range(3)
    ]

    for child in children:
        child.start()
    results = [out.get(timeout=30) for _ in children]
    for child in children:
        child.join(timeout=30)

    applied = [name for result in results for name in result]
    assert [child.exitcode for child in children] == [0, 0, 0]
    assert sorted(applied) == MIGRATIONS


def test_threads_writing_at_once_through_one_store_all_land(
    tmp_path: Path,
) -> None:
    storage = SqliteStorage(tmp_path / "tasks.db")
    storage.migrate()
    user = make_user(storage)
    project = Project(owner_id=user.id, name="Busy")
    storage.projects.add(project)

    def add_tasks() -> None:
        for _ in range(25):
            storage.tasks.add(Task(owner_id=user.id, project_id=project.id, title="t"))
            storage.tasks.list(user.id, project.id, TaskFilter(), PageRequest(5))

    threads = [threading.Thread(target=add_tasks) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(storage.tasks.delete_by_project(project.id)) == 200
    storage.close()


def test_a_forked_child_writes_through_connections_of_its_own(
    tmp_path: Path,
) -> None:
    storage = SqliteStorage(tmp_path / "tasks.db")
    storage.migrate()
    make_user(storage, "parent@example.com")

    pid = os.fork()
    if pid == 0:
        try:
            make_user(storage, "child@example.com")
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert storage.users.get_by_email("child@example.com") is not None
    assert storage.users.get_by_email("parent@example.com") is not None
    storage.close()


def test_a_forked_child_never_reuses_the_parents_connections(
    tmp_path: Path,
) -> None:
    storage = SqliteStorage(tmp_path / "tasks.db")
    storage.migrate()
    with storage.database.connection() as inherited:
        pass  # back in the pool, idle, when the process forks

    pid = os.fork()
    if pid == 0:
        with storage.database.connection() as conn:
            os._exit(0 if conn is not inherited else 1)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    storage.close()


def test_greenlets_under_gevent_share_the_store(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        from gevent import monkey
        monkey.patch_all()

        import sys
        import gevent
        from tasks_api.adapters.storage.sqlite import SqliteStorage
        from tasks_api.domain.listing import PageRequest, TaskFilter
        from tasks_api.domain.model import Project, Task, User

        storage = SqliteStorage(sys.argv[1])
        storage.migrate()
        user = User(email="g@example.com", name="G", password_hash="h")
        storage.users.add(user)
        project = Project(owner_id=user.id, name="Green")
        storage.projects.add(project)

        def work():
            for _ in range(10):
                task = Task(owner_id=user.id, project_id=project.id, title="t")
                storage.tasks.add(task)
                gevent.sleep(0)
                storage.tasks.list(
                    user.id, project.id, TaskFilter(), PageRequest(3)
                )

        gevent.joinall([gevent.spawn(work) for _ in range(30)], raise_error=True)
        print(len(storage.tasks.delete_by_project(project.id)))
        storage.close()
        """
    )

    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "tasks.db")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "300"


def test_a_closed_store_refuses_calls(tmp_path: Path) -> None:
    storage = SqliteStorage(tmp_path / "tasks.db")
    storage.migrate()

    storage.close()

    with pytest.raises(sqlite3.ProgrammingError):
        storage.users.get("anyone")


def test_scripts_split_at_statement_ends_only() -> None:
    script = textwrap.dedent(
        """
        -- a comment; with a semicolon
        CREATE TABLE notes (body TEXT DEFAULT 'a; b');
        CREATE TRIGGER stamp AFTER INSERT ON notes BEGIN
            UPDATE notes SET body = body || ';' WHERE rowid = new.rowid;
        END;
        """
    )

    statements = [s.strip() for s in _statements(script)]

    assert len(statements) == 2
    assert statements[0].endswith("DEFAULT 'a; b');")
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")


def test_a_script_ending_mid_statement_is_refused() -> None:
    with pytest.raises(ValueError, match="unfinished"):
        list(_statements("CREATE TABLE a (x); CREATE TABLE b (y)"))


def test_rows_stored_before_migration_0005_are_listed_as_json_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = SqliteStorage(tmp_path / "tasks.db")
    earlier = [m for m in load("sqlite", ".sql") if m.name < "0005"]
    with monkeypatch.context() as patched:
        patched.setattr(sqlite_module, "load", lambda *_: earlier)
        storage.migrate()
    owner = make_user(storage)
    project = Project(owner_id=owner.id, name="Old", description='"quoted"')
    storage.projects.add(project)
    task = Task(owner_id=owner.id, project_id=project.id, title="Old\ttask")
    storage.tasks.add(task)

    assert storage.migrate() == ["0005_list_item_json"]

    projects = storage.views.projects(owner.id, PageRequest())
    tasks = storage.views.tasks(owner.id, project.id, TaskFilter(), PageRequest())
    assert [json.loads(item) for item in projects.items] == [project_item(project)]
    assert [json.loads(item) for item in tasks.items] == [task_item(task)]
    storage.close()
