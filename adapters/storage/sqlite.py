"""Storage in one SQLite file: the embedded default.

Connections come from a small pool rather than one per thread through
``threading.local``. Under gevent's monkey-patching ``threading.local``
is local to each greenlet, that is to each request, so it would open a
connection per request and close it only when the greenlet is collected;
a pool reuses a few connections whatever runs the calls (threads,
greenlets, or both) and closes every one of them in ``close``. A
connection is checked out for one repository call and may move between
threads, which SQLite's serialized mode allows.

Every connection runs in WAL mode (readers never wait for the writer),
``synchronous=NORMAL`` (a power cut can lose the last commits, never
corrupt the file), with foreign keys on and a busy timeout, so several
gunicorn workers can share one file: writers queue for the lock instead
of failing. Each repository call is one statement or one transaction.

Limits: SQLite has one writer at a time per file, so writes from every
worker queue behind each other; reads go on meanwhile. Under gevent a
call waiting for the write lock blocks every greenlet of its worker for
up to the busy timeout, because SQLite waits inside C. A connection must
not cross ``fork``: the pool notices a changed process id and opens
fresh connections in the child.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

from tasks_api.adapters.storage.keyset import (
    SORT_FIELDS,
    fetch_size,
    page_of,
    project_key,
    task_key,
    timestamp_key,
)
from tasks_api.domain.errors import EmailTaken
from tasks_api.domain.listing import (
    UNDATED,
    Page,
    PageRequest,
    TaskFilter,
    iso_millis,
)
from tasks_api.domain.model import (
    Priority,
    Project,
    Task,
    TaskStatus,
    User,
    utcnow,
)
from tasks_api.migrations.loader import Migration, load
from tasks_api.ports.storage import (
    ProjectRepository,
    Storage,
    TaskRepository,
    UserRepository,
)

log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 5.0
# Idle connections kept for reuse; more are opened when calls overlap.
MAX_IDLE_CONNECTIONS = 4


class SqliteDatabase:
    """A pool of connections to one database file, set up alike."""

    def __init__(
        self, path: str | os.PathLike[str], busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._closed = False

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection in autocommit mode, for one repository call."""
        conn = self._check_out()
        try:
            yield conn
        finally:
            self._check_in(conn)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection inside ``BEGIN IMMEDIATE``, committed on success."""
        with self.connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _check_out(self) -> sqlite3.Connection:
        with self._lock:
            if self._closed:
                raise sqlite3.ProgrammingError("The storage is closed.")
            if self._pid != os.getpid():
                # Inherited through fork: unusable here, and closing them
                # could disturb the parent's locks, so they are dropped.
                self._idle = []
                self._pid = os.getpid()
            if self._idle:
                return self._idle.pop()
        return self._open()

    def _check_in(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.rollback()
        with self._lock:
            keep = (
                not self._closed
                and self._pid == os.getpid()
                and len(self._idle) < MAX_IDLE_CONNECTIONS
            )
            if keep:
                self._idle.append(conn)
                return
        conn.close()

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path,
            timeout=self._busy_timeout,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        log.debug("Opened a connection to %s.", self.path)
        return conn


class SqliteUserRepository(UserRepository):
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def add(self, user: User) -> None:
        with _email_guard(), self._db.connection() as conn:
            conn.execute(
                "INSERT INTO users (id, email, name, password_hash,"
                " created_at, token_version) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    user.id,
                    user.email,
                    user.name,
                    user.password_hash,
                    iso_millis(user.created_at),
                    user.token_version,
                ),
            )

    def get(self, user_id: str) -> User | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT * FROM users WHERE id = ?", (user_id,)
            ).fetchone()
        return None if row is None else _user(row)

    def get_by_email(self, email: str) -> User | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT * FROM users WHERE email = ?", (email,)
            ).fetchone()
        return None if row is None else _user(row)

    def update(self, user: User) -> None:
        with _email_guard(), self._db.connection() as conn:
            conn.execute(
                "UPDATE users SET email = ?, name = ?, password_hash = ?,"
                " token_version = ? WHERE id = ?",
                (
                    user.email,
                    user.name,
                    user.password_hash,
                    user.token_version,
                    user.id,
                ),
            )


class SqliteProjectRepository(ProjectRepository):
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def add(self, project: Project) -> None:
        with self._db.connection() as conn:
            conn.execute(
                "INSERT INTO projects (id, owner_id, name, description,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    project.id,
                    project.owner_id,
                    project.name,
                    project.description,
                    iso_millis(project.created_at),
                    iso_millis(project.updated_at),
                ),
            )

    def get(self, owner_id: str, project_id: str) -> Project | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT * FROM projects WHERE id = ? AND owner_id = ?",
                (project_id, owner_id),
            ).fetchone()
        return None if row is None else _project(row)

    def list(self, owner_id: str, page: PageRequest) -> Page[Project]:
        sql = "SELECT * FROM projects WHERE owner_id = ?"
        params: list[object] = [owner_id]
        if page.after is not None:
            sql += " AND (created_at, id) < (?, ?)"
            params += [timestamp_key(page.after), page.after.id]
        sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
        params.append(fetch_size(page.limit))

        with self._db.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return page_of([_project(row) for row in rows], page.limit, project_key)

    def update(self, project: Project) -> None:
        with self._db.connection() as conn:
            conn.execute(
                "UPDATE projects SET name = ?, description = ?, updated_at = ?"
                " WHERE id = ? AND owner_id = ?",
                (
                    project.name,
                    project.description,
                    iso_millis(project.updated_at),
                    project.id,
                    project.owner_id,
                ),
            )

    def delete(self, owner_id: str, project_id: str) -> bool:
        with self._db.connection() as conn:
            cursor = conn.execute(
                "DELETE FROM projects WHERE id = ? AND owner_id = ?",
                (project_id, owner_id),
            )
        return cursor.rowcount == 1


class SqliteTaskRepository(TaskRepository):
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def add(self, task: Task) -> None:
        with self._db.connection() as conn:
            conn.execute(
                "INSERT INTO tasks (id, owner_id, project_id, title,"
                " description, status, priority, priority_rank, due_date,"
                " due_sort, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    task.id,
                    task.owner_id,
                    task.project_id,
                    task.title,
                    task.description,
                    TaskStatus(task.status).value,
                    *_priority_columns(task),
                    *_due_columns(task),
                    iso_millis(task.created_at),
                    iso_millis(task.updated_at),
                ),
            )

    def get(self, owner_id: str, task_id: str) -> Task | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT * FROM tasks WHERE id = ? AND owner_id = ?",
                (task_id, owner_id),
            ).fetchone()
        return None if row is None else _task(row)

    def list(
        self,
        owner_id: str,
        project_id: str,
        where: TaskFilter,
        page: PageRequest,
    ) -> Page[Task]:
        clauses = ["owner_id = ?", "project_id = ?"]
        params: list[object] = [owner_id, project_id]
        if where.status is not None:
            clauses.append("status = ?")
            params.append(TaskStatus(where.status).value)
        if where.priority is not None:
            clauses.append("priority = ?")
            params.append(Priority(where.priority).value)
        if where.due_from is not None:
            clauses.append("due_date >= ?")
            params.append(where.due_from.isoformat())
        if where.due_to is not None:
            clauses.append("due_date <= ?")
            params.append(where.due_to.isoformat())

        # Both names come from fixed tables, never from the request.
        column = SORT_FIELDS[where.sort]
        direction = "DESC" if where.sort.descending else "ASC"
        if page.after is not None:
            beyond = "<" if where.sort.descending else ">"
            clauses.append(f"({column}, id) {beyond} (?, ?)")
            params += [task_key(where.sort, page.after), page.after.id]
        sql = (
            f"SELECT * FROM tasks WHERE {' AND '.join(clauses)}"  # noqa: S608
            f" ORDER BY {column} {direction}, id {direction} LIMIT ?"
        )
        params.append(fetch_size(page.limit))

        with self._db.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return page_of([_task(row) for row in rows], page.limit, where.sort.key)

    def update(self, task: Task) -> None:
        with self._db.connection() as conn:
            conn.execute(
                "UPDATE tasks SET title = ?, description = ?, status = ?,"
                " priority = ?, priority_rank = ?, due_date = ?,"
                " due_sort = ?, updated_at = ? WHERE id = ? AND owner_id = ?",
                (
                    task.title,
                    task.description,
                    TaskStatus(task.status).value,
                    *_priority_columns(task),
                    *_due_columns(task),
                    iso_millis(task.updated_at),
                    task.id,
                    task.owner_id,
                ),
            )

    def delete(self, owner_id: str, task_id: str) -> bool:
        with self._db.connection() as conn:
            cursor = conn.execute(
                "DELETE FROM tasks WHERE id = ? AND owner_id = ?",
                (task_id, owner_id),
            )
        return cursor.rowcount == 1

    def delete_by_project(self, project_id: str) -> list[str]:
        with self._db.connection() as conn:
            rows = conn.execute(
                "DELETE FROM tasks WHERE project_id = ? RETURNING id",
                (project_id,),
            ).fetchall()
        return [row["id"] for row in rows]


class SqliteStorage(Storage):
    """Every repository in one SQLite file, shared by threads and processes.

    ``path`` is the database file; its folder is made if missing. There is
    no in-memory mode: each pooled connection would see its own empty
    database. ``InMemoryStorage`` is the store for that.
    """

    def __init__(
        self, path: str | os.PathLike[str], busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> None:
        self.database = SqliteDatabase(path, busy_timeout)
        self.users = SqliteUserRepository(self.database)
        self.projects = SqliteProjectRepository(self.database)
        self.tasks = SqliteTaskRepository(self.database)

    def migrate(self) -> list[str]:
        """Apply the numbered ``sqlite/*.sql`` files not yet applied.

        Each file runs in its own ``BEGIN IMMEDIATE`` transaction with the
        row that records it, so it is applied whole or not at all, and a
        second process migrating at the same time waits, then finds it
        done. A file therefore must not change a PRAGMA that has no effect
        inside a transaction (``journal_mode``, ``foreign_keys``).
        """
        with self.database.connection() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations"
                " (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
            done = {
                row["name"]
                for row in conn.execute("SELECT name FROM schema_migrations")
            }

        applied = []
        for migration in load("sqlite", ".sql"):
            if migration.name not in done and self._apply(migration):
                applied.append(migration.name)
        return applied

    def ping(self) -> None:
        with self.database.connection() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        self.database.close()

    def _apply(self, migration: Migration) -> bool:
        started = time.perf_counter()
        with self.database.transaction() as conn:
            found = conn.execute(
                "SELECT 1 FROM schema_migrations WHERE name = ?",
                (migration.name,),
            ).fetchone()
            if found is not None:
                return False
            for statement in _statements(migration.text):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                (migration.name, iso_millis(utcnow())),
            )

        log.info(
            "Applied migration %r to %s in %.3f s.",
            migration.name,
            self.database.path,
            time.perf_counter() - started,
        )
        return True


def _statements(script: str) -> Iterator[str]:
    """The statements of an SQL script, one at a time.

    ``sqlite3.complete_statement`` decides where each ends, so semicolons
    inside strings, comments and trigger bodies are not taken for ends.
    """
    start = 0
    for end, char in enumerate(script):
        if char != ";":
            continue
        candidate = script[start : end + 1]
        if sqlite3.complete_statement(candidate):
            yield candidate
            start = end + 1
    if script[start:].strip():
        raise ValueError("the migration ends with an unfinished statement")


@contextmanager
def _email_guard() -> Iterator[None]:
    """Turn the unique email index's refusal into ``EmailTaken``."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        if "users.email" in str(error):
            raise EmailTaken("That email is already registered.") from error
        raise


def _priority_columns(task: Task) -> tuple[str, int]:
    priority = Priority(task.priority)
    return priority.value, priority.rank


def _due_columns(task: Task) -> tuple[str | None, str]:
    if task.due_date is None:
        return None, UNDATED
    return task.due_date.isoformat(), task.due_date.isoformat()


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        password_hash=row["password_hash"],
        created_at=datetime.fromisoformat(row["created_at"]),
        token_version=row["token_version"],
    )


def _project(row: sqlite3.Row) -> Project:
    return Project(
        id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        description=row["description"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def _task(row: sqlite3.Row) -> Task:
    due = row["due_date"]
    return Task(
        id=row["id"],
        owner_id=row["owner_id"],
        project_id=row["project_id"],
        title=row["title"],
        description=row["description"],
        status=TaskStatus(row["status"]),
        priority=Priority(row["priority"]),
        due_date=None if due is None else date.fromisoformat(due),
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )
