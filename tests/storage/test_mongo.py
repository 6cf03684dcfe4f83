"""What MongoStorage adds to the contract: documents, indexes, migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pymongo.database import Database

from tasks_api.adapters.storage.mongo import MIGRATION_LEASE, MongoStorage
from tasks_api.domain.listing import UNDATED
from tasks_api.domain.model import Priority, Project, Task, User, utcnow
from tasks_api.migrations.loader import load

MIGRATIONS = [migration.name for migration in load("mongo", ".json")]


def test_the_first_migration_creates_the_indexes_and_is_recorded(
    mongo_database: Database,
) -> None:
    storage = MongoStorage(mongo_database)

    first = storage.migrate()
    second = storage.migrate()

    assert first == MIGRATIONS
    assert first[0] == "0001_indexes"
    assert second == []
    email_index = mongo_database["users"].index_information()["users_email_unique"]
    assert email_index["unique"] is True
    assert "tasks_by_project_due" in mongo_database["tasks"].index_information()
    record = mongo_database["schema_migrations"].find_one({"_id": "0001_indexes"})
    assert record is not None
    assert record["applied_at"] is not None


def test_a_second_store_on_the_same_database_migrates_nothing(
    mongo_database: Database,
) -> None:
    MongoStorage(mongo_database).migrate()

    assert MongoStorage(mongo_database).migrate() == []


def test_a_migration_claimed_moments_ago_is_left_to_its_claimant(
    mongo_database: Database,
) -> None:
    claimed = {"_id": "0001_indexes", "started_at": utcnow(), "applied_at": None}
    mongo_database["schema_migrations"].insert_one(claimed)

    applied = MongoStorage(mongo_database).migrate()

    assert applied == MIGRATIONS[1:]
    assert "users_email_unique" not in mongo_database["users"].index_information()


def test_a_migration_whose_claimant_died_is_applied_again(
    mongo_database: Database,
) -> None:
    long_ago = utcnow() - MIGRATION_LEASE - timedelta(minutes=1)
    claimed = {"_id": "0001_indexes", "started_at": long_ago, "applied_at": None}
    mongo_database["schema_migrations"].insert_one(claimed)

    applied = MongoStorage(mongo_database).migrate()

    assert applied == MIGRATIONS
    assert "users_email_unique" in mongo_database["users"].index_information()
    record = mongo_database["schema_migrations"].find_one({"_id": "0001_indexes"})
    assert record is not None
    assert record["applied_at"] is not None


def test_a_task_document_carries_its_sort_fields_and_utc_times(
    mongo_database: Database,
) -> None:
    storage = MongoStorage(mongo_database)
    storage.migrate()
    user = User(email="ada@example.com", name="Ada", password_hash="h")
    project = Project(owner_id=user.id, name="P")
    created = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    urgent = Task(
        owner_id=user.id,
        project_id=project.id,
        title="Urgent",
        priority=Priority.HIGH,
        due_date=date(2024, 6, 1),
        created_at=created,
    )
    someday = Task(owner_id=user.id, project_id=project.id, title="Someday")

    storage.tasks.add(urgent)
    storage.tasks.add(someday)

    urgent_doc = mongo_database["tasks"].find_one({"_id": urgent.id})
    someday_doc = mongo_database["tasks"].find_one({"_id": someday.id})
    assert urgent_doc is not None and someday_doc is not None
    assert (urgent_doc["priority_rank"], urgent_doc["due_sort"]) == (2, "2024-06-01")
    assert (someday_doc["due_date"], someday_doc["due_sort"]) == (None, UNDATED)
    stored_time = urgent_doc["created_at"].replace(tzinfo=UTC)
    assert stored_time == created.replace(microsecond=123000)


def test_from_url_uses_the_database_the_url_names_or_the_default() -> None:
    # Clients connect lazily: nothing is asked of these unreachable ports.
    named = MongoStorage.from_url("mongodb://127.0.0.1:9/projects_db")
    unnamed = MongoStorage.from_url("mongodb://127.0.0.1:9")
    chosen = MongoStorage.from_url("mongodb://127.0.0.1:9/projects_db", "other")

    names = [s.database.name for s in (named, unnamed, chosen)]

    assert names == ["projects_db", "tasks_api", "other"]
    for storage in (named, unnamed, chosen):
        storage.close()
