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

import json
import logging
import os
import sqlite3
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tasks_api.adapters.concurrency import thread_lock
from tasks_api.adapters.storage.jobfields import TIME_FIELDS, checked_changes
from tasks_api.adapters.storage.keyset import (
    SORT_FIELDS,
    created_key,
    due_sort_range,
    fetch_size,
    page_of,
    page_of_rows,
    queued_key,
    task_key,
    timestamp_key,
)
from tasks_api.domain.errors import EmailTaken
from tasks_api.domain.jobs import (
    UNFINISHED,
    Attachment,
    EventType,
    Job,
    JobEvent,
    JobStage,
    JobStatus,
)
from tasks_api.domain.listing import (
    UNDATED,
    Cursor,
    ItemJson,
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
    AttachmentRepository,
    IdempotencyRepository,
    JobEventRepository,
    JobRepository,
    ListViews,
    ProjectRepository,
    Storage,
    TaskRepository,
    UserRepository,
)

log = logging.getLogger(__name__)

# The pool asks which process it is in at every check-out and check-in, and
# os.getpid() is a system call each time: so the id is read once, and again
# in each child os.fork() makes (gunicorn's workers are such children).
_process_id = os.getpid()


def _read_process_id() -> None:
    global _process_id
    _process_id = os.getpid()


os.register_at_fork(after_in_child=_read_process_id)

DEFAULT_BUSY_TIMEOUT = 5.0
# Idle connections kept for reuse; more are opened when calls overlap.
MAX_IDLE_CONNECTIONS = 4
# Ids bound per statement when deleting by a list of ids; SQLite allows
# 32,766 variables, and a short statement keeps the write lock briefly.
ID_BATCH = 500
# Stored values to enum members by a dict look-up: calling the enum costs
# about 13 microseconds on a page of twenty tasks.
_STATUS_OF = {status.value: status for status in TaskStatus}
_PRIORITY_OF = {priority.value: priority for priority in Priority}


class SqliteDatabase:
    """A pool of connections to one database file, set up alike."""

    def __init__(
        self, path: str | os.PathLike[str], busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    ) -> None:
        self.path = Path(path)
        self._busy_timeout = busy_timeout
        self._lock = thread_lock()
        self._idle: list[sqlite3.Connection] = []
        self._pid = _process_id
        self._closed = False

    def connection(self) -> ConnectionLease:
        """A connection in autocommit mode, for one repository call."""
        return ConnectionLease(self)

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
            if self._pid != _process_id:
                # Inherited through fork: unusable here, and closing them
                # could disturb the parent's locks, so they are dropped.
                self._idle = []
                self._pid = _process_id
            if self._idle:
                return self._idle.pop()
        return self._open()

    def _check_in(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.rollback()
        with self._lock:
            keep = (
                not self._closed
                and self._pid == _process_id
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
        self._use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        log.debug("Opened a connection to %s.", self.path)
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL mode unless it is in it already.

        The switch needs the file to itself, and SQLite answers "database
        is locked" at once rather than waiting when another connection
        holds it, as when several workers open a new file together; so it
        is retried until the busy timeout runs out.
        """
        if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            return

        deadline = time.monotonic() + self._busy_timeout
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        if mode != "wal":
            log.warning(
                "%s cannot use WAL mode; staying in %s mode, where readers "
                "wait for writers.",
                self.path,
                mode,
            )


class ConnectionLease:
    """One pooled connection: checked out on entering, back in on leaving.

    A class, not a ``@contextmanager`` generator, whose machinery cost
    about 0.65 microseconds a use; a list request makes two.
    """

    __slots__ = ("_conn", "_db")

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def __enter__(self) -> sqlite3.Connection:
        self._conn = self._db._check_out()
        return self._conn

    def __exit__(self, *exc_info: object) -> None:
        self._db._check_in(self._conn)


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
                f"SELECT {PROJECT_COLUMNS} FROM projects"  # noqa: S608
                " WHERE id = ? AND owner_id = ?",
                (project_id, owner_id),
            ).fetchone()
        return None if row is None else _project(row)

    def list(self, owner_id: str, page: PageRequest) -> Page[Project]:
        sql, params = _newest_first(
            "projects", PROJECT_COLUMNS, "created_at", owner_id, {}, page
        )
        with self._db.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return page_of([_project(row) for row in rows], page.limit, created_key)

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
                f"SELECT {TASK_COLUMNS} FROM tasks"  # noqa: S608
                " WHERE id = ? AND owner_id = ?",
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
        sql, params = task_list_query(owner_id, project_id, where, page)
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


class SqliteListViews(ListViews):
    """The list pages read as the JSON items the rows keep.

    A page of twenty tasks read as entities and then made items cost about
    a tenth of the whole request: parsing two times and a date a row, and
    building each ``Task``. Each row keeps its item as JSON text instead
    (``item_json``, rewritten by triggers on every write: migration 0005),
    so a row hands over three values: the item, and the next cursor's sort
    key and id.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def projects(self, owner_id: str, page: PageRequest) -> Page[ItemJson]:
        columns = "item_json, created_at, id"
        sql, params = _newest_first(
            "projects", columns, "created_at", owner_id, {}, page
        )
        with self._db.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return _json_page(rows, page.limit)

    def tasks(
        self, owner_id: str, project_id: str, where: TaskFilter, page: PageRequest
    ) -> Page[ItemJson]:
        columns = f"item_json, {SORT_FIELDS[where.sort]}, id"
        sql, params = task_list_query(owner_id, project_id, where, page, columns)
        with self._db.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return _json_page(rows, page.limit)


class SqliteAttachmentRepository(AttachmentRepository):
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def add(self, attachment: Attachment) -> None:
        with self._db.connection() as conn:
            conn.execute(
                "INSERT INTO attachments (id, owner_id, task_id, project_id,"
                " filename, media_type, size, storage_key, language, job_id,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    attachment.id,
                    attachment.owner_id,
                    attachment.task_id,
                    attachment.project_id,
                    attachment.filename,
                    attachment.media_type,
                    attachment.size,
                    attachment.storage_key,
                    attachment.language,
                    attachment.job_id,
                    iso_millis(attachment.created_at),
                ),
            )

    def get(self, owner_id: str, attachment_id: str) -> Attachment | None:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT * FROM attachments WHERE id = ? AND owner_id = ?",
                (attachment_id, owner_id),
            ).fetchone()
        return None if row is None else _attachment(row)

    def list_by_task(
        self, owner_id: str, task_id: str, page: PageRequest
    ) -> Page[Attachment]:
        sql, params = _newest_first(
            "attachments", "*", "created_at", owner_id, {"task_id": task_id}, page
        )
        with self._db.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return page_of([_attachment(row) for row in rows], page.limit, created_key)

    def delete(self, owner_id: str, attachment_id: str) -> bool:
        with self._db.connection() as conn:
            cursor = conn.execute(
                "DELETE FROM attachments WHERE id = ? AND owner_id = ?",
                (attachment_id, owner_id),
            )
        return cursor.rowcount == 1

    def delete_by_tasks(self, task_ids: Collection[str]) -> list[Attachment]:
        rows = _delete_where_in(self._db, "attachments", "task_id", task_ids, "*")
        return [_attachment(row) for row in rows]


class SqliteJobRepository(JobRepository):
    """Jobs; every change is one ``UPDATE ... WHERE status ...`` statement."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def add(self, job: Job) -> None:
        columns = {"id": job.id, **_job_columns(job)}
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        with self._db.connection() as conn:
            conn.execute(
                f"INSERT INTO jobs ({names}) VALUES ({marks})",  # noqa: S608
                list(columns.values()),
            )

    def get(self, job_id: str) -> Job | None:
        with self._db.connection() as conn:
            row = conn.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else _job(row)

    def get_for_owner(self, owner_id: str, job_id: str) -> Job | None:
        job = self.get(job_id)
        return job if job is not None and job.owner_id == owner_id else None

    def list_by_task(self, owner_id: str, task_id: str, page: PageRequest) -> Page[Job]:
        sql, params = _newest_first(
            "jobs", "*", "queued_at", owner_id, {"task_id": task_id}, page
        )
        with self._db.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return page_of([_job(row) for row in rows], page.limit, queued_key)

    def transition(
        self,
        job_id: str,
        expected: Collection[JobStatus],
        changes: Mapping[str, Any],
    ) -> Job | None:
        columns = {
            name: _job_value(name, value)
            for name, value in checked_changes(changes).items()
        }
        # Column names come from CHANGEABLE_FIELDS, never from a request.
        sets = ", ".join(f"{name} = ?" for name in columns) or "status = status"
        statuses = [JobStatus(status).value for status in expected]
        marks = ", ".join("?" for _ in statuses)
        return self._update_one(
            f"UPDATE jobs SET {sets} WHERE id = ?"  # noqa: S608
            f" AND status IN ({marks}) RETURNING *",
            [*columns.values(), job_id, *statuses],
        )

    def claim(self, job_id: str, now: datetime, stale_before: datetime) -> Job | None:
        return self._update_one(
            "UPDATE jobs SET status = 'running', attempts = attempts + 1,"
            " heartbeat_at = ?, started_at = COALESCE(started_at, ?)"
            " WHERE id = ? AND (status = 'queued'"
            " OR (status = 'running' AND heartbeat_at < ?)) RETURNING *",
            [iso_millis(now), iso_millis(now), job_id, iso_millis(stale_before)],
        )

    def report_progress(
        self,
        job_id: str,
        stage: JobStage,
        pages_done: int,
        pages_total: int,
        now: datetime,
    ) -> Job | None:
        return self._update_one(
            "UPDATE jobs SET stage = ?, pages_done = ?, pages_total = ?,"
            " heartbeat_at = ? WHERE id = ? AND status = 'running' RETURNING *",
            [JobStage(stage).value, pages_done, pages_total, iso_millis(now), job_id],
        )

    def request_cancel(self, job_id: str) -> Job | None:
        return self._update_one(
            "UPDATE jobs SET cancel_requested = 1"
            " WHERE id = ? AND status IN (?, ?) RETURNING *",
            [job_id, *sorted(status.value for status in UNFINISHED)],
        )

    def find_stalled(self, queued_before: datetime, beat_before: datetime) -> list[Job]:
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT * FROM jobs"
                " WHERE (status = 'queued' AND COALESCE(due_at, queued_at) < ?)"
                " OR (status = 'running' AND heartbeat_at < ?)"
                " ORDER BY queued_at, id",
                (iso_millis(queued_before), iso_millis(beat_before)),
            ).fetchall()
        return [_job(row) for row in rows]

    def count_unfinished(self, owner_id: str) -> int:
        with self._db.connection() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM jobs WHERE owner_id = ? AND status IN (?, ?)",
                (owner_id, *sorted(status.value for status in UNFINISHED)),
            ).fetchone()
        return int(row[0])

    def count_by_status(self) -> dict[JobStatus, int]:
        # Answered from the (status, queued_at) index, without the rows.
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT status, COUNT(*) FROM jobs GROUP BY status"
            ).fetchall()
        counts = dict.fromkeys(JobStatus, 0)
        for status, count in rows:
            counts[JobStatus(status)] = int(count)
        return counts

    def delete_by_attachments(self, attachment_ids: Collection[str]) -> list[str]:
        rows = _delete_where_in(self._db, "jobs", "attachment_id", attachment_ids, "id")
        return [row["id"] for row in rows]

    def _update_one(self, sql: str, params: Sequence[object]) -> Job | None:
        # fetchall, not fetchone: the statement, and with it the write,
        # ends only once every row it returns has been read.
        with self._db.connection() as conn:
            rows = conn.execute(sql, params).fetchall()
        return _job(rows[0]) if rows else None


class SqliteJobEventRepository(JobEventRepository):
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def append(self, job_id: str, type: EventType, data: Mapping[str, Any]) -> JobEvent:
        """Number and store the event in one statement.

        A writing statement takes the write lock before it reads, so the
        ``MAX(seq)`` it reads cannot be taken by another writer meanwhile.
        """
        event_type = EventType(type)
        body = json.dumps(dict(data), separators=(",", ":"))
        created = utcnow()
        with self._db.connection() as conn:
            rows = conn.execute(
                "INSERT INTO job_events (job_id, seq, type, data, created_at)"
                " SELECT ?, COALESCE(MAX(seq), 0) + 1, ?, ?, ? FROM job_events"
                " WHERE job_id = ? RETURNING seq",
                (job_id, event_type.value, body, iso_millis(created), job_id),
            ).fetchall()
        return JobEvent(
            job_id=job_id,
            seq=rows[0]["seq"],
            type=event_type,
            data=json.loads(body),
            created_at=created,
        )

    def list(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        with self._db.connection() as conn:
            rows = conn.execute(
                "SELECT * FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq",
                (job_id, after_seq),
            ).fetchall()
        return [_job_event(row) for row in rows]

    def delete_by_jobs(self, job_ids: Collection[str]) -> None:
        _delete_where_in(self._db, "job_events", "job_id", job_ids, "seq")


class SqliteIdempotencyRepository(IdempotencyRepository):
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def reserve(self, owner_id: str, key: str, attachment_id: str) -> str | None:
        with self._db.connection() as conn:
            conn.execute(
                "INSERT INTO idempotency_keys (owner_id, key, attachment_id,"
                " created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (owner_id, key) DO NOTHING",
                (owner_id, key, attachment_id, iso_millis(utcnow())),
            )
            row = conn.execute(
                "SELECT attachment_id FROM idempotency_keys"
                " WHERE owner_id = ? AND key = ?",
                (owner_id, key),
            ).fetchone()
        recorded: str = row["attachment_id"]
        return None if recorded == attachment_id else recorded

    def release(self, owner_id: str, key: str, attachment_id: str) -> None:
        with self._db.connection() as conn:
            conn.execute(
                "DELETE FROM idempotency_keys"
                " WHERE owner_id = ? AND key = ? AND attachment_id = ?",
                (owner_id, key, attachment_id),
            )


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
        self.views = SqliteListViews(self.database)
        self.attachments = SqliteAttachmentRepository(self.database)
        self.jobs = SqliteJobRepository(self.database)
        self.job_events = SqliteJobEventRepository(self.database)
        self.idempotency = SqliteIdempotencyRepository(self.database)

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


# Project and task rows are read by position: on a page of twenty, name
# look-ups on sqlite3.Row cost about 15 microseconds more. Each row
# function unpacks its columns in this order.
PROJECT_COLUMNS = "id, owner_id, name, description, created_at, updated_at"
TASK_COLUMNS = (
    "id, owner_id, project_id, title, description, status, priority,"
    " due_date, created_at, updated_at"
)


def task_list_query(
    owner_id: str,
    project_id: str,
    where: TaskFilter,
    page: PageRequest,
    columns: str = TASK_COLUMNS,
) -> tuple[str, list[object]]:
    """The SELECT of ``columns`` for one page of a project's tasks, and its parameters.

    Priority and due dates are matched on their derived columns,
    ``priority_rank`` and ``due_sort``, which the indexes of migration 0003
    hold after the status; so a filtered, sorted page is read in order from
    one index instead of sorted or filtered row by row.
    """
    clauses = ["owner_id = ?", "project_id = ?"]
    params: list[object] = [owner_id, project_id]
    if where.status is not None:
        clauses.append("status = ?")
        params.append(TaskStatus(where.status).value)
    if where.priority is not None:
        clauses.append("priority_rank = ?")
        params.append(Priority(where.priority).rank)
    due_range = due_sort_range(where)
    if due_range is not None:
        clauses.append("due_sort BETWEEN ? AND ?")
        params += due_range

    # Both names come from fixed tables, never from the request.
    column = SORT_FIELDS[where.sort]
    direction = "DESC" if where.sort.descending else "ASC"
    if page.after is not None:
        beyond = "<" if where.sort.descending else ">"
        clauses.append(f"({column}, id) {beyond} (?, ?)")
        params += [task_key(where.sort, page.after), page.after.id]
    sql = (
        f"SELECT {columns} FROM tasks"  # noqa: S608
        f" WHERE {' AND '.join(clauses)}"
        f" ORDER BY {column} {direction}, id {direction} LIMIT ?"
    )
    params.append(fetch_size(page.limit))
    return sql, params


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


def _json_page(rows: Sequence[Sequence[Any]], limit: int) -> Page[ItemJson]:
    """A page from ``fetch_size(limit)`` rows of item JSON, sort key and id."""
    found = page_of_rows(rows, limit, lambda last: Cursor(last[1], last[2]))
    return Page([row[0] for row in found.items], found.next_cursor)


def _project(row: Sequence[Any]) -> Project:
    """A project from a row of PROJECT_COLUMNS."""
    id_, owner_id, name, description, created_at, updated_at = row
    return Project(
        id=id_,
        owner_id=owner_id,
        name=name,
        description=description,
        created_at=datetime.fromisoformat(created_at),
        updated_at=datetime.fromisoformat(updated_at),
    )


def _task(row: Sequence[Any]) -> Task:
    """A task from a row of TASK_COLUMNS."""
    (
        id_,
        owner_id,
        project_id,
        title,
        description,
        status,
        priority,
        due_date,
        created_at,
        updated_at,
    ) = row
    return Task(
        id=id_,
        owner_id=owner_id,
        project_id=project_id,
        title=title,
        description=description,
        status=_STATUS_OF[status],
        priority=_PRIORITY_OF[priority],
        due_date=None if due_date is None else date.fromisoformat(due_date),
        created_at=datetime.fromisoformat(created_at),
        updated_at=datetime.fromisoformat(updated_at),
    )


def _newest_first(
    table: str,
    columns: str,
    time_column: str,
    owner_id: str,
    conditions: Mapping[str, object],
    page: PageRequest,
) -> tuple[str, list[object]]:
    """The query for one page of an owner's rows, newest first."""
    clauses = ["owner_id = ?", *(f"{name} = ?" for name in conditions)]
    params: list[object] = [owner_id, *conditions.values()]
    if page.after is not None:
        clauses.append(f"({time_column}, id) < (?, ?)")
        params += [timestamp_key(page.after), page.after.id]
    params.append(fetch_size(page.limit))
    # Table and column names are fixed by the callers, never from a request.
    sql = (
        f"SELECT {columns} FROM {table} WHERE {' AND '.join(clauses)}"  # noqa: S608
        f" ORDER BY {time_column} DESC, id DESC LIMIT ?"
    )
    return sql, params


def _delete_where_in(
    db: SqliteDatabase,
    table: str,
    column: str,
    values: Collection[str],
    returning: str,
) -> list[sqlite3.Row]:
    """Delete the rows whose ``column`` is among ``values``, in one transaction."""
    values = list(values)
    removed: list[sqlite3.Row] = []
    if not values:
        return removed

    with db.transaction() as conn:
        for start in range(0, len(values), ID_BATCH):
            batch = values[start : start + ID_BATCH]
            marks = ", ".join("?" for _ in batch)
            removed += conn.execute(
                f"DELETE FROM {table} WHERE {column} IN ({marks})"  # noqa: S608
                f" RETURNING {returning}",
                batch,
            ).fetchall()
    return removed


def _job_value(name: str, value: object) -> object:
    """A job field's value as its column holds it."""
    if value is None:
        return None
    if name in TIME_FIELDS:
        return iso_millis(value)  # type: ignore[arg-type]
    if name == "status":
        return JobStatus(value).value  # type: ignore[arg-type]
    if name == "stage":
        return JobStage(value).value  # type: ignore[arg-type]
    if name == "cancel_requested":
        return int(bool(value))
    return value


def _job_columns(job: Job) -> dict[str, object]:
    return {
        name: _job_value(name, getattr(job, name))
        for name in (
            "owner_id",
            "task_id",
            "attachment_id",
            "storage_key",
            "media_type",
            "language",
            "status",
            "stage",
            "pages_done",
            "pages_total",
            "error_code",
            "error_message",
            "text",
            "summary",
            "attempts",
            "cancel_requested",
            *TIME_FIELDS,
        )
    }


def _attachment(row: sqlite3.Row) -> Attachment:
    return Attachment(
        id=row["id"],
        owner_id=row["owner_id"],
        task_id=row["task_id"],
        project_id=row["project_id"],
        filename=row["filename"],
        media_type=row["media_type"],
        size=row["size"],
        storage_key=row["storage_key"],
        language=row["language"],
        job_id=row["job_id"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def _job(row: sqlite3.Row) -> Job:
    times = {
        name: None if row[name] is None else datetime.fromisoformat(row[name])
        for name in TIME_FIELDS
    }
    return Job(
        id=row["id"],
        owner_id=row["owner_id"],
        task_id=row["task_id"],
        attachment_id=row["attachment_id"],
        storage_key=row["storage_key"],
        media_type=row["media_type"],
        language=row["language"],
        status=JobStatus(row["status"]),
        stage=None if row["stage"] is None else JobStage(row["stage"]),
        pages_done=row["pages_done"],
        pages_total=row["pages_total"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        text=row["text"],
        summary=row["summary"],
        attempts=row["attempts"],
        cancel_requested=bool(row["cancel_requested"]),
        **times,
    )


def _job_event(row: sqlite3.Row) -> JobEvent:
    return JobEvent(
        job_id=row["job_id"],
        seq=row["seq"],
        type=EventType(row["type"]),
        data=json.loads(row["data"]),
        created_at=datetime.fromisoformat(row["created_at"]),
    )
