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
from datetime import date, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from tasks_api.adapters.storage.keyset import (
    SORT_FIELDS,
    fetch_size,
    page_of,
    project_key,
    task_key,
    timestamp_key,
    utc_millis,
)
from tasks_api.domain.errors import EmailTaken
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
    ProjectRepository,
    Storage,
    TaskRepository,
    UserRepository,
)

log = logging.getLogger(__name__)

Document = dict[str, Any]

DEFAULT_DATABASE = "tasks_api"
# A migration claimed longer ago than this and still unfinished is taken
# to belong to a process that died, and is applied again.
MIGRATION_LEASE = timedelta(minutes=5)
# Tasks removed per round by delete_by_project.
DELETE_BATCH = 500


class MongoUserRepository(UserRepository):
    def __init__(self, db: Database[Document]) -> None:
        self._users: Collection[Document] = db["users"]

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
        self._projects: Collection[Document] = db["projects"]

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
        query: Document = {"owner_id": owner_id}
        if page.after is not None:
            created = _bson_time(datetime.fromisoformat(timestamp_key(page.after)))
            query["$or"] = [
                {"created_at": {"$lt": created}},
                {"created_at": created, "_id": {"$lt": page.after.id}},
            ]

        docs = (
            self._projects.find(query)
            .sort([("created_at", DESCENDING), ("_id", DESCENDING)])
            .limit(fetch_size(page.limit))
        )
        return page_of([_project(doc) for doc in docs], page.limit, project_key)

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
        self._tasks: Collection[Document] = db["tasks"]

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
        query: Document = {"owner_id": owner_id, "project_id": project_id}
        if where.status is not None:
            query["status"] = TaskStatus(where.status).value
        if where.priority is not None:
            query["priority"] = Priority(where.priority).value
        due: Document = {}
        if where.due_from is not None:
            due["$gte"] = where.due_from.isoformat()
        if where.due_to is not None:
            due["$lte"] = where.due_to.isoformat()
        if due:
            query["due_date"] = due

        field = SORT_FIELDS[where.sort]
        direction = DESCENDING if where.sort.descending else ASCENDING
        if page.after is not None:
            key = _bson_key(where.sort, task_key(where.sort, page.after))
            beyond = "$lt" if where.sort.descending else "$gt"
            query["$or"] = [
                {field: {beyond: key}},
                {field: key, "_id": {beyond: page.after.id}},
            ]

        docs = (
            self._tasks.find(query)
            .sort([(field, direction), ("_id", direction)])
            .limit(fetch_size(page.limit))
        )
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
        removed: list[str] = []
        while True:
            ids = [
                doc["_id"]
                for doc in self._tasks.find(
                    {"project_id": project_id}, {"_id": True}
                ).limit(DELETE_BATCH)
            ]
            if not ids:
                return removed
            self._tasks.delete_many({"project_id": project_id, "_id": {"$in": ids}})
            removed += ids


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
