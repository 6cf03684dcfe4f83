"""Storage in MongoDB: the production choice.

Documents use our string ids as ``_id``. Each task also carries two
fields derived from it, ``priority_rank`` (``Priority.rank``) and
``due_sort`` (the due date, or ``UNDATED`` after every date), because a
plain ``find`` cannot sort by an expression; the indexes in
``mongo/*.json`` cover each sort with its keyset condition.

Times are stored as BSON dates, which keep milliseconds in UTC, and are
handed back as aware UTC datetimes whatever the client's ``tz_aware``
setting. Due dates are ISO text, as there is no date-only BSON type.

A ``MongoClient`` must not cross ``fork``: open the storage in each
worker process, after it forks.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, MongoClient, ReturnDocument
from pymongo.collection import Collection as MongoCollection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from tasks_api.adapters.storage.jobfields import TIME_FIELDS, checked_changes
from tasks_api.adapters.storage.keyset import (
    SORT_FIELDS,
    created_key,
    due_sort_range,
    fetch_size,
    page_of,
    queued_key,
    task_key,
    timestamp_key,
    utc_millis,
)
from tasks_api.adapters.storage.views import EntityListViews
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
    Page,
    PageRequest,
    TaskFilter,
    TaskSort,
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
    ProjectRepository,
    Storage,
    TaskRepository,
    UserRepository,
)

log = logging.getLogger(__name__)

Document = dict[str, Any]
_Entity = TypeVar("_Entity", Project, Attachment, Job)

DEFAULT_DATABASE = "tasks_api"
# A migration claimed longer ago than this and still unfinished is taken
# to belong to a process that died, and is applied again.
MIGRATION_LEASE = timedelta(minutes=5)
# Documents removed per round by the delete_by_* methods.
DELETE_BATCH = 500
# How often append retries when another writer took the number it chose.
APPEND_TRIES = 20
_UNFINISHED = sorted(status.value for status in UNFINISHED)


class MongoUserRepository(UserRepository):
    def __init__(self, db: Database[Document]) -> None:
        self._users: MongoCollection[Document] = db["users"]

    def add(self, user: User) -> None:
        try:
            self._users.insert_one(
                {
                    "_id": user.id,
                    "email": user.email,
                    "name": user.name,
                    "password_hash": user.password_hash,
                    "created_at": _bson_time(user.created_at),
                    "token_version": user.token_version,
                }
            )
        except DuplicateKeyError as error:
            self._raise_if_email_taken(error, user)
            raise

    def get(self, user_id: str) -> User | None:
        doc = self._users.find_one({"_id": user_id})
        return None if doc is None else _user(doc)

    def get_by_email(self, email: str) -> User | None:
        doc = self._users.find_one({"email": email})
        return None if doc is None else _user(doc)

    def update(self, user: User) -> None:
        changes = {
            "email": user.email,
            "name": user.name,
            "password_hash": user.password_hash,
            "token_version": user.token_version,
        }
        try:
            self._users.update_one({"_id": user.id}, {"$set": changes})
        except DuplicateKeyError as error:
            self._raise_if_email_taken(error, user)
            raise

    def _raise_if_email_taken(self, error: DuplicateKeyError, user: User) -> None:
        # Servers since 4.2 name the index key that clashed; older ones, and
        # test doubles, do not, so then the clash is looked for.
        pattern = (error.details or {}).get("keyPattern")
        if pattern is not None:
            taken = "email" in pattern
        else:
            clash = {"email": user.email, "_id": {"$ne": user.id}}
            taken = self._users.count_documents(clash, limit=1) > 0
        if taken:
            raise EmailTaken("That email is already registered.") from error


class MongoProjectRepository(ProjectRepository):
    def __init__(self, db: Database[Document]) -> None:
        self._projects: MongoCollection[Document] = db["projects"]

    def add(self, project: Project) -> None:
        self._projects.insert_one(
            {
                "_id": project.id,
                "owner_id": project.owner_id,
                "name": project.name,
                "description": project.description,
                "created_at": _bson_time(project.created_at),
                "updated_at": _bson_time(project.updated_at),
            }
        )

    def get(self, owner_id: str, project_id: str) -> Project | None:
        doc = self._projects.find_one({"_id": project_id, "owner_id": owner_id})
        return None if doc is None else _project(doc)

    def list(self, owner_id: str, page: PageRequest) -> Page[Project]:
        query = {"owner_id": owner_id}
        return _newest_first(
            self._projects, "created_at", query, page, _project, created_key
        )

    def update(self, project: Project) -> None:
        self._projects.update_one(
            {"_id": project.id, "owner_id": project.owner_id},
            {
                "$set": {
                    "name": project.name,
                    "description": project.description,
                    "updated_at": _bson_time(project.updated_at),
                }
            },
        )

    def delete(self, owner_id: str, project_id: str) -> bool:
        result = self._projects.delete_one({"_id": project_id, "owner_id": owner_id})
        return result.deleted_count == 1


class MongoTaskRepository(TaskRepository):
    def __init__(self, db: Database[Document]) -> None:
        self._tasks: MongoCollection[Document] = db["tasks"]

    def add(self, task: Task) -> None:
        self._tasks.insert_one(
            {
                "_id": task.id,
                "owner_id": task.owner_id,
                "project_id": task.project_id,
                "created_at": _bson_time(task.created_at),
                **_task_changes(task),
            }
        )

    def get(self, owner_id: str, task_id: str) -> Task | None:
        doc = self._tasks.find_one({"_id": task_id, "owner_id": owner_id})
        return None if doc is None else _task(doc)

    def list(
        self,
        owner_id: str,
        project_id: str,
        where: TaskFilter,
        page: PageRequest,
    ) -> Page[Task]:
        query, order = task_list_query(owner_id, project_id, where, page)
        docs = self._tasks.find(query).sort(order).limit(fetch_size(page.limit))
        return page_of([_task(doc) for doc in docs], page.limit, where.sort.key)

    def update(self, task: Task) -> None:
        self._tasks.update_one(
            {"_id": task.id, "owner_id": task.owner_id},
            {"$set": _task_changes(task)},
        )

    def delete(self, owner_id: str, task_id: str) -> bool:
        result = self._tasks.delete_one({"_id": task_id, "owner_id": owner_id})
        return result.deleted_count == 1

    def delete_by_project(self, project_id: str) -> list[str]:
        """Remove the project's tasks in batches, returning the ids removed.

        There is no transaction: ids are read, then exactly those are
        deleted, round after round until none is left, so every id
        returned was removed and a task added meanwhile is not missed.
        """
        docs = _delete_in_rounds(self._tasks, {"project_id": project_id})
        return [doc["_id"] for doc in docs]


class MongoAttachmentRepository(AttachmentRepository):
    def __init__(self, db: Database[Document]) -> None:
        self._attachments: MongoCollection[Document] = db["attachments"]

    def add(self, attachment: Attachment) -> None:
        self._attachments.insert_one(
            {
                "_id": attachment.id,
                "owner_id": attachment.owner_id,
                "task_id": attachment.task_id,
                "project_id": attachment.project_id,
                "filename": attachment.filename,
                "media_type": attachment.media_type,
                "size": attachment.size,
                "storage_key": attachment.storage_key,
                "language": attachment.language,
                "job_id": attachment.job_id,
                "created_at": _bson_time(attachment.created_at),
            }
        )

    def get(self, owner_id: str, attachment_id: str) -> Attachment | None:
        doc = self._attachments.find_one({"_id": attachment_id, "owner_id": owner_id})
        return None if doc is None else _attachment(doc)

    def list_by_task(
        self, owner_id: str, task_id: str, page: PageRequest
    ) -> Page[Attachment]:
        query = {"owner_id": owner_id, "task_id": task_id}
        return _newest_first(
            self._attachments, "created_at", query, page, _attachment, created_key
        )

    def delete(self, owner_id: str, attachment_id: str) -> bool:
        result = self._attachments.delete_one(
            {"_id": attachment_id, "owner_id": owner_id}
        )
        return result.deleted_count == 1

    def delete_by_tasks(self, task_ids: Collection[str]) -> list[Attachment]:
        query = {"task_id": {"$in": list(task_ids)}}
        return [_attachment(doc) for doc in _delete_in_rounds(self._attachments, query)]


class MongoJobRepository(JobRepository):
    """Jobs; every change is one ``find_one_and_update`` on the status."""

    def __init__(self, db: Database[Document]) -> None:
        self._jobs: MongoCollection[Document] = db["jobs"]

    def add(self, job: Job) -> None:
        self._jobs.insert_one(_job_document(job))

    def get(self, job_id: str) -> Job | None:
        doc = self._jobs.find_one({"_id": job_id})
        return None if doc is None else _job(doc)

    def get_for_owner(self, owner_id: str, job_id: str) -> Job | None:
        doc = self._jobs.find_one({"_id": job_id, "owner_id": owner_id})
        return None if doc is None else _job(doc)

    def list_by_task(self, owner_id: str, task_id: str, page: PageRequest) -> Page[Job]:
        query = {"owner_id": owner_id, "task_id": task_id}
        return _newest_first(self._jobs, "queued_at", query, page, _job, queued_key)

    def transition(
        self,
        job_id: str,
        expected: Collection[JobStatus],
        changes: Mapping[str, Any],
    ) -> Job | None:
        fields = {
            name: _job_value(name, value)
            for name, value in checked_changes(changes).items()
        }
        statuses = [JobStatus(status).value for status in expected]
        query = {"_id": job_id, "status": {"$in": statuses}}
        if not fields:
            doc = self._jobs.find_one(query)
            return None if doc is None else _job(doc)
        return self._update_one(query, {"$set": fields})

    def claim(self, job_id: str, now: datetime, stale_before: datetime) -> Job | None:
        moment = _bson_time(now)
        query = {
            "_id": job_id,
            "$or": [
                {"status": JobStatus.QUEUED.value},
                {
                    "status": JobStatus.RUNNING.value,
                    "heartbeat_at": {"$lt": _bson_time(stale_before)},
                },
            ],
        }
        # A pipeline update, so that started_at is kept when already set.
        change = [
            {
                "$set": {
                    "status": JobStatus.RUNNING.value,
                    "attempts": {"$add": ["$attempts", 1]},
                    "heartbeat_at": moment,
                    "started_at": {"$ifNull": ["$started_at", moment]},
                }
            }
        ]
        return self._update_one(query, change)

    def report_progress(
        self,
        job_id: str,
        stage: JobStage,
        pages_done: int,
        pages_total: int,
        now: datetime,
    ) -> Job | None:
        return self._update_one(
            {"_id": job_id, "status": JobStatus.RUNNING.value},
            {
                "$set": {
                    "stage": JobStage(stage).value,
                    "pages_done": pages_done,
                    "pages_total": pages_total,
                    "heartbeat_at": _bson_time(now),
                }
            },
        )

    def request_cancel(self, job_id: str) -> Job | None:
        return self._update_one(
            {"_id": job_id, "status": {"$in": _UNFINISHED}},
            {"$set": {"cancel_requested": True}},
        )

    def find_stalled(self, queued_before: datetime, beat_before: datetime) -> list[Job]:
        query = {
            "$or": [
                {
                    "status": JobStatus.QUEUED.value,
                    "due_at": None,
                    "queued_at": {"$lt": _bson_time(queued_before)},
                },
                {
                    "status": JobStatus.QUEUED.value,
                    "due_at": {"$lt": _bson_time(queued_before)},
                },
                {
                    "status": JobStatus.RUNNING.value,
                    "heartbeat_at": {"$lt": _bson_time(beat_before)},
                },
            ]
        }
        docs = self._jobs.find(query).sort(
            [("queued_at", ASCENDING), ("_id", ASCENDING)]
        )
        return [_job(doc) for doc in docs]

    def count_unfinished(self, owner_id: str) -> int:
        return self._jobs.count_documents(
            {"owner_id": owner_id, "status": {"$in": _UNFINISHED}}
        )

    def count_by_status(self) -> dict[JobStatus, int]:
        # One count per status rather than a $group: each is answered from
        # the (status, queued_at) index alone, where a $group reads every
        # document.
        return {
            status: self._jobs.count_documents({"status": status.value})
            for status in JobStatus
        }

    def delete_by_attachments(self, attachment_ids: Collection[str]) -> list[str]:
        query = {"attachment_id": {"$in": list(attachment_ids)}}
        return [doc["_id"] for doc in _delete_in_rounds(self._jobs, query)]

    def _update_one(self, query: Document, change: Any) -> Job | None:
        doc = self._jobs.find_one_and_update(
            query, change, return_document=ReturnDocument.AFTER
        )
        return None if doc is None else _job(doc)


class MongoJobEventRepository(JobEventRepository):
    def __init__(self, db: Database[Document]) -> None:
        self._events: MongoCollection[Document] = db["job_events"]

    def append(self, job_id: str, type: EventType, data: Mapping[str, Any]) -> JobEvent:
        """Store the event under the number after the last one stored.

        The number is part of ``_id``, so of two writers choosing the same
        one only the first succeeds and the other tries the next. A number
        is chosen only after the one before it is visible, so a reader
        never sees event n+1 without event n.
        """
        event_type = EventType(type)
        body = json.loads(json.dumps(dict(data)))
        for _ in range(APPEND_TRIES):
            last = self._events.find_one(
                {"job_id": job_id}, {"seq": True}, sort=[("seq", DESCENDING)]
            )
            seq = 1 if last is None else last["seq"] + 1
            created = utcnow()
            try:
                self._events.insert_one(
                    {
                        "_id": f"{job_id}:{seq}",
                        "job_id": job_id,
                        "seq": seq,
                        "type": event_type.value,
                        "data": body,
                        "created_at": _bson_time(created),
                    }
                )
            except DuplicateKeyError:
                continue
            return JobEvent(job_id, seq, event_type, body, created)
        raise RuntimeError(
            f"Could not number an event of job {job_id!r} in {APPEND_TRIES} tries."
        )

    def list(self, job_id: str, after_seq: int = 0) -> list[JobEvent]:
        docs = self._events.find({"job_id": job_id, "seq": {"$gt": after_seq}}).sort(
            "seq", ASCENDING
        )
        return [_job_event(doc) for doc in docs]

    def delete_by_jobs(self, job_ids: Collection[str]) -> None:
        self._events.delete_many({"job_id": {"$in": list(job_ids)}})


class MongoIdempotencyRepository(IdempotencyRepository):
    def __init__(self, db: Database[Document]) -> None:
        self._keys: MongoCollection[Document] = db["idempotency_keys"]

    def reserve(self, owner_id: str, key: str, attachment_id: str) -> str | None:
        # The owner and key are the _id, so no index is needed for them to
        # be unique; field order matters in such an _id and is fixed here.
        doc_id = {"owner_id": owner_id, "key": key}
        try:
            self._keys.insert_one(
                {
                    "_id": doc_id,
                    "attachment_id": attachment_id,
                    "created_at": _bson_time(utcnow()),
                }
            )
            return None
        except DuplicateKeyError:
            pass

        doc = self._keys.find_one({"_id": doc_id})
        recorded: str = doc["attachment_id"] if doc else attachment_id
        return None if recorded == attachment_id else recorded

    def release(self, owner_id: str, key: str, attachment_id: str) -> None:
        self._keys.delete_one(
            {"_id": {"owner_id": owner_id, "key": key}, "attachment_id": attachment_id}
        )


class MongoStorage(Storage):
    """Every repository in one MongoDB database.

    Give it a ``Database`` (tests give a mongomock one) or use
    ``from_url``, which owns the client and closes it in ``close``.
    """

    def __init__(
        self, database: Database[Document], client: MongoClient[Document] | None = None
    ) -> None:
        self.database = database
        self._client = client
        self.users = MongoUserRepository(database)
        self.projects = MongoProjectRepository(database)
        self.tasks = MongoTaskRepository(database)
        self.views = EntityListViews(self.projects, self.tasks)
        self.attachments = MongoAttachmentRepository(database)
        self.jobs = MongoJobRepository(database)
        self.job_events = MongoJobEventRepository(database)
        self.idempotency = MongoIdempotencyRepository(database)

    @classmethod
    def from_url(
        cls, url: str, database: str | None = None, timeout: float = 5.0
    ) -> MongoStorage:
        """Connect to ``url``; the database is ``database``, else the URL's.

        ``timeout`` bounds, in seconds, how long a call waits for a server.
        """
        client: MongoClient[Document] = MongoClient(
            url,
            tz_aware=True,
            serverSelectionTimeoutMS=int(timeout * 1000),
            connectTimeoutMS=int(timeout * 1000),
        )
        if database is None:
            db = client.get_default_database(default=DEFAULT_DATABASE)
        else:
            db = client[database]
        return cls(db, client=client)

    def migrate(self) -> list[str]:
        """Apply the numbered ``mongo/*.json`` index files not yet applied.

        A process claims a migration by inserting its record (``_id`` is
        the name) before applying it, so of two processes migrating at
        once only one applies each file. A claim left unfinished for
        ``MIGRATION_LEASE`` is taken over, which is safe because creating
        an index that exists already changes nothing.

        Each file maps a collection to its index specs: ``keys`` as
        ``[field, 1 or -1]`` pairs, and options such as ``name`` and
        ``unique`` passed on to ``create_index``.
        """
        applied = []
        for migration in load("mongo", ".json"):
            if self._claim(migration.name):
                self._apply(migration)
                applied.append(migration.name)
        return applied

    def ping(self) -> None:
        self.database.command("ping")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _claim(self, name: str) -> bool:
        records = self.database["schema_migrations"]
        now = _bson_time(utcnow())
        try:
            records.insert_one({"_id": name, "started_at": now, "applied_at": None})
            return True
        except DuplicateKeyError:
            pass

        abandoned = {
            "_id": name,
            "applied_at": None,
            "started_at": {"$lt": now - MIGRATION_LEASE},
        }
        result = records.update_one(abandoned, {"$set": {"started_at": now}})
        if result.modified_count == 1:
            log.warning("Migration %r was left unfinished; applying it again.", name)
            return True
        return False

    def _apply(self, migration: Migration) -> None:
        started = time.perf_counter()
        specs: dict[str, list[Document]] = json.loads(migration.text)
        for collection, indexes in specs.items():
            for spec in indexes:
                options = dict(spec)
                keys = [(field, order) for field, order in options.pop("keys")]
                self.database[collection].create_index(keys, **options)

        self.database["schema_migrations"].update_one(
            {"_id": migration.name},
            {"$set": {"applied_at": _bson_time(utcnow())}},
        )
        log.info(
            "Applied migration %r to %r in %.3f s.",
            migration.name,
            self.database.name,
            time.perf_counter() - started,
        )


def _bson_time(moment: datetime) -> datetime:
    """A time as MongoDB keeps it: naive UTC, milliseconds."""
    return utc_millis(moment).replace(tzinfo=None)


def _bson_key(sort: TaskSort, key: str | int) -> str | int | datetime:
    if sort in (TaskSort.CREATED, TaskSort.UPDATED):
        return _bson_time(datetime.fromisoformat(str(key)))
    return key


def _task_changes(task: Task) -> Document:
    """The fields ``update`` may change, with the sort fields made from them."""
    priority = Priority(task.priority)
    due = None if task.due_date is None else task.due_date.isoformat()
    return {
        "title": task.title,
        "description": task.description,
        "status": TaskStatus(task.status).value,
        "priority": priority.value,
        "priority_rank": priority.rank,
        "due_date": due,
        "due_sort": UNDATED if due is None else due,
        "updated_at": _bson_time(task.updated_at),
    }


def _user(doc: Document) -> User:
    return User(
        id=doc["_id"],
        email=doc["email"],
        name=doc["name"],
        password_hash=doc["password_hash"],
        created_at=utc_millis(doc["created_at"]),
        token_version=doc["token_version"],
    )


def _project(doc: Document) -> Project:
    return Project(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        name=doc["name"],
        description=doc["description"],
        created_at=utc_millis(doc["created_at"]),
        updated_at=utc_millis(doc["updated_at"]),
    )


def task_list_query(
    owner_id: str, project_id: str, where: TaskFilter, page: PageRequest
) -> tuple[Document, list[tuple[str, int]]]:
    """The filter and sort order for one page of a project's tasks.

    Priority and due dates are matched on the derived fields
    ``priority_rank`` and ``due_sort``, which the indexes of migration 0003
    hold after the status, so a filtered page is read in order from one
    index.
    """
    query: Document = {"owner_id": owner_id, "project_id": project_id}
    if where.status is not None:
        query["status"] = TaskStatus(where.status).value
    if where.priority is not None:
        query["priority_rank"] = Priority(where.priority).rank
    due_range = due_sort_range(where)
    if due_range is not None:
        query["due_sort"] = {"$gte": due_range[0], "$lte": due_range[1]}

    field = SORT_FIELDS[where.sort]
    direction = DESCENDING if where.sort.descending else ASCENDING
    if page.after is not None:
        key = _bson_key(where.sort, task_key(where.sort, page.after))
        beyond = "$lt" if where.sort.descending else "$gt"
        query["$or"] = [
            {field: {beyond: key}},
            {field: key, "_id": {beyond: page.after.id}},
        ]
    return query, [(field, direction), ("_id", direction)]


def _task(doc: Document) -> Task:
    due = doc["due_date"]
    return Task(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        project_id=doc["project_id"],
        title=doc["title"],
        description=doc["description"],
        status=TaskStatus(doc["status"]),
        priority=Priority(doc["priority"]),
        due_date=None if due is None else date.fromisoformat(due),
        created_at=utc_millis(doc["created_at"]),
        updated_at=utc_millis(doc["updated_at"]),
    )


def _newest_first(
    collection: MongoCollection[Document],
    field: str,
    query: Document,
    page: PageRequest,
    entity: Callable[[Document], _Entity],
    key: Callable[[_Entity], str],
) -> Page[_Entity]:
    """One page of ``query``'s documents by ``field`` then id, descending."""
    if page.after is not None:
        moment = _bson_time(datetime.fromisoformat(timestamp_key(page.after)))
        query = {
            **query,
            "$or": [
                {field: {"$lt": moment}},
                {field: moment, "_id": {"$lt": page.after.id}},
            ],
        }

    docs = (
        collection.find(query)
        .sort([(field, DESCENDING), ("_id", DESCENDING)])
        .limit(fetch_size(page.limit))
    )
    return page_of([entity(doc) for doc in docs], page.limit, key)


def _delete_in_rounds(
    collection: MongoCollection[Document], query: Document
) -> list[Document]:
    """Delete what ``query`` matches, returning exactly the documents removed.

    Documents are read, then those ids deleted, round after round until
    none is left; there are no transactions without a replica set.
    """
    removed: list[Document] = []
    while True:
        docs = list(collection.find(query).limit(DELETE_BATCH))
        if not docs:
            return removed
        ids = [doc["_id"] for doc in docs]
        collection.delete_many({**query, "_id": {"$in": ids}})
        removed += docs


def _job_value(name: str, value: object) -> object:
    """A job field's value as its document holds it."""
    if value is None:
        return None
    if name in TIME_FIELDS:
        return _bson_time(value)  # type: ignore[arg-type]
    if name == "status":
        return JobStatus(value).value  # type: ignore[arg-type]
    if name == "stage":
        return JobStage(value).value  # type: ignore[arg-type]
    return value


def _job_document(job: Job) -> Document:
    fields = {
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
    return {"_id": job.id, **fields}


def _attachment(doc: Document) -> Attachment:
    return Attachment(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        task_id=doc["task_id"],
        project_id=doc["project_id"],
        filename=doc["filename"],
        media_type=doc["media_type"],
        size=doc["size"],
        storage_key=doc["storage_key"],
        language=doc["language"],
        job_id=doc["job_id"],
        created_at=utc_millis(doc["created_at"]),
    )


def _job(doc: Document) -> Job:
    times = {
        name: None if doc.get(name) is None else utc_millis(doc[name])
        for name in TIME_FIELDS
    }
    return Job(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        task_id=doc["task_id"],
        attachment_id=doc["attachment_id"],
        storage_key=doc["storage_key"],
        media_type=doc["media_type"],
        language=doc["language"],
        status=JobStatus(doc["status"]),
        stage=None if doc.get("stage") is None else JobStage(doc["stage"]),
        pages_done=doc["pages_done"],
        pages_total=doc["pages_total"],
        error_code=doc.get("error_code"),
        error_message=doc.get("error_message"),
        text=doc.get("text"),
        summary=doc.get("summary"),
        attempts=doc["attempts"],
        cancel_requested=bool(doc["cancel_requested"]),
        **times,
    )


def _job_event(doc: Document) -> JobEvent:
    return JobEvent(
        job_id=doc["job_id"],
        seq=doc["seq"],
        type=EventType(doc["type"]),
        data=doc["data"],
        created_at=utc_millis(doc["created_at"]),
    )
