"""What every Storage adapter promises, run against each of them."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks_api.domain.errors import EmailTaken, InvalidInput
from tasks_api.domain.listing import (
    Cursor,
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
    new_id,
)
from tasks_api.ports.storage import Storage

T0 = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
_ids = itertools.count()


def ordered_id(prefix: str = "") -> str:
    """Ids that sort in the order they are made, for readable expectations."""
    return f"{prefix}{next(_ids):06d}"


def add_project(
    storage: Storage, owner: User, created_at: datetime = T0, **fields: object
) -> Project:
    values: dict[str, object] = {"name": "Project", "updated_at": created_at}
    values.update(fields)
    project = Project(
        owner_id=owner.id,
        created_at=created_at,
        **values,  # type: ignore[arg-type]
    )
    storage.projects.add(project)
    return project


def add_task(storage: Storage, project: Project, **fields: object) -> Task:
    values: dict[str, object] = {
        "title": "Task",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    task = Task(
        owner_id=project.owner_id,
        project_id=project.id,
        **values,  # type: ignore[arg-type]
    )
    storage.tasks.add(task)
    return task


def read_all_projects(storage: Storage, owner: User, limit: int) -> list[Page[Project]]:
    pages = [storage.projects.list(owner.id, PageRequest(limit=limit))]
    while pages[-1].next_cursor is not None:
        after = pages[-1].next_cursor
        pages.append(storage.projects.list(owner.id, PageRequest(limit, after)))
    return pages


def read_all_tasks(
    storage: Storage, project: Project, where: TaskFilter, limit: int
) -> list[Task]:
    tasks: list[Task] = []
    after: Cursor | None = None
    while True:
        page = storage.tasks.list(
            project.owner_id, project.id, where, PageRequest(limit, after)
        )
        tasks += page.items
        if page.next_cursor is None:
            return tasks
        after = page.next_cursor


def sorted_as_specified(tasks: list[Task], sort: TaskSort) -> list[Task]:
    """The order TaskSort documents, computed directly from its key."""
    return sorted(
        tasks, key=lambda task: (sort.key(task), task.id), reverse=sort.descending
    )


def ids(items: object) -> list[str]:
    return [item.id for item in items]  # type: ignore[attr-defined]


# Users


def test_a_stored_user_comes_back_by_id_and_by_email(storage: Storage) -> None:
    user = User(email="ada@example.com", name="Ada", password_hash="h1")

    storage.users.add(user)

    assert storage.users.get(user.id) == user
    assert storage.users.get_by_email("ada@example.com") == user


def test_an_unknown_user_id_or_email_finds_nothing(storage: Storage) -> None:
    storage.users.add(User(email="ada@example.com", name="Ada", password_hash="h"))

    assert storage.users.get(new_id()) is None
    assert storage.users.get_by_email("bob@example.com") is None


def test_a_second_account_with_the_same_email_is_refused(storage: Storage) -> None:
    first = User(email="ada@example.com", name="Ada", password_hash="h1")
    storage.users.add(first)

    with pytest.raises(EmailTaken):
        storage.users.add(User(email="ada@example.com", name="Eve", password_hash="h2"))

    assert storage.users.get_by_email("ada@example.com") == first


def test_updating_a_user_changes_what_is_read_back(storage: Storage) -> None:
    user = User(email="ada@example.com", name="Ada", password_hash="h1")
    storage.users.add(user)

    changed = replace(user, password_hash="h2", token_version=3)
    storage.users.update(changed)

    assert storage.users.get(user.id) == changed


def test_moving_a_user_to_an_email_in_use_is_refused(storage: Storage) -> None:
    ada = User(email="ada@example.com", name="Ada", password_hash="h")
    bob = User(email="bob@example.com", name="Bob", password_hash="h")
    storage.users.add(ada)
    storage.users.add(bob)

    with pytest.raises(EmailTaken):
        storage.users.update(replace(bob, email="ada@example.com"))

    assert storage.users.get(bob.id) == bob
    assert storage.users.get_by_email("ada@example.com") == ada


def test_a_user_who_changed_email_is_found_only_by_the_new_one(
    storage: Storage,
) -> None:
    user = User(email="ada@example.com", name="Ada", password_hash="h")
    storage.users.add(user)

    storage.users.update(replace(user, email="ada@example.org"))

    assert storage.users.get_by_email("ada@example.com") is None
    assert storage.users.get_by_email("ada@example.org") is not None
    other = User(email="ada@example.com", name="New Ada", password_hash="h")
    storage.users.add(other)


def test_times_come_back_as_the_same_instant_in_utc(storage: Storage) -> None:
    paris = timezone(timedelta(hours=2))
    created = datetime(2024, 5, 6, 9, 8, 9, 123000, tzinfo=paris)
    user = User(
        email="ada@example.com", name="Ada", password_hash="h", created_at=created
    )

    storage.users.add(user)
    stored = storage.users.get(user.id)

    assert stored is not None
    assert stored.created_at == created
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at.hour == 7


def test_changing_an_entity_after_storing_it_changes_nothing_stored(
    storage: Storage, owner: User
) -> None:
    project = add_project(storage, owner, name="Before")

    project.name = "After"
    read = storage.projects.get(owner.id, project.id)
    assert read is not None
    read.name = "Also after"

    again = storage.projects.get(owner.id, project.id)
    assert again is not None
    assert again.name == "Before"


# Projects


def test_a_project_is_found_by_its_owner_and_nobody_else(
    storage: Storage, owner: User
) -> None:
    project = add_project(storage, owner, description="Things to do")

    assert storage.projects.get(owner.id, project.id) == project
    assert storage.projects.get(new_id(), project.id) is None
    assert storage.projects.get(owner.id, new_id()) is None


def test_updating_a_project_keeps_its_creation_time(
    storage: Storage, owner: User
) -> None:
    project = add_project(storage, owner)

    changed = replace(
        project,
        name="Renamed",
        description="New words",
        updated_at=T0 + timedelta(hours=1),
    )
    storage.projects.update(changed)

    assert storage.projects.get(owner.id, project.id) == changed


def test_an_update_naming_another_owner_changes_nothing(
    storage: Storage, owner: User
) -> None:
    project = add_project(storage, owner, name="Mine")

    storage.projects.update(replace(project, owner_id=new_id(), name="Theirs"))

    assert storage.projects.get(owner.id, project.id) == project


def test_only_the_owner_can_delete_a_project(storage: Storage, owner: User) -> None:
    project = add_project(storage, owner)

    assert storage.projects.delete(new_id(), project.id) is False
    assert storage.projects.get(owner.id, project.id) == project

    assert storage.projects.delete(owner.id, project.id) is True
    assert storage.projects.get(owner.id, project.id) is None
    assert storage.projects.delete(owner.id, project.id) is False


def test_projects_are_listed_newest_first_in_pages_each_seen_once(
    storage: Storage, owner: User
) -> None:
    made = [
        add_project(storage, owner, created_at=T0 + timedelta(seconds=i))
        for i in range(25)
    ]

    pages = read_all_projects(storage, owner, limit=10)

    assert [len(page.items) for page in pages] == [10, 10, 5]
    assert [ids(page.items) for page in pages] == [
        ids(made[::-1][:10]),
        ids(made[::-1][10:20]),
        ids(made[::-1][20:]),
    ]
    assert pages[-1].next_cursor is None


def test_a_full_last_page_has_no_next_cursor(storage: Storage, owner: User) -> None:
    for i in range(20):
        add_project(storage, owner, created_at=T0 + timedelta(seconds=i))

    pages = read_all_projects(storage, owner, limit=10)

    assert [len(page.items) for page in pages] == [10, 10]


def test_a_project_added_between_pages_neither_repeats_nor_hides_others(
    storage: Storage, owner: User
) -> None:
    made = [
        add_project(storage, owner, created_at=T0 + timedelta(seconds=i))
        for i in range(25)
    ]
    first = storage.projects.list(owner.id, PageRequest(limit=10))

    add_project(storage, owner, created_at=T0 + timedelta(hours=1))
    seen = list(first.items)
    after = first.next_cursor
    while after is not None:
        page = storage.projects.list(owner.id, PageRequest(10, after))
        seen += page.items
        after = page.next_cursor

    assert ids(seen) == ids(made[::-1])


def test_projects_made_in_the_same_millisecond_are_ordered_by_id(
    storage: Storage, owner: User
) -> None:
    made = [add_project(storage, owner, id=ordered_id("p")) for _ in range(7)]

    pages = read_all_projects(storage, owner, limit=3)

    assert [ids(page.items) for page in pages] == [
        ids(made[6:3:-1]),
        ids(made[3:0:-1]),
        ids(made[:1]),
    ]


def test_a_project_list_holds_only_the_owners_projects(
    storage: Storage, owner: User
) -> None:
    mine = add_project(storage, owner)
    stranger = User(email="eve@example.com", name="Eve", password_hash="h")
    storage.users.add(stranger)
    add_project(storage, stranger)

    page = storage.projects.list(owner.id, PageRequest())

    assert ids(page.items) == [mine.id]
    assert page.next_cursor is None


def test_a_project_cursor_that_is_not_a_time_is_refused(
    storage: Storage, owner: User
) -> None:
    add_project(storage, owner)

    with pytest.raises(InvalidInput):
        storage.projects.list(owner.id, PageRequest(10, Cursor(key=2, id="x")))
    with pytest.raises(InvalidInput):
        storage.projects.list(owner.id, PageRequest(10, Cursor("soon", "x")))


# Tasks


@pytest.fixture
def project(storage: Storage, owner: User) -> Project:
    return add_project(storage, owner)


def test_a_task_is_found_by_its_owner_and_nobody_else(
    storage: Storage, project: Project
) -> None:
    task = add_task(
        storage,
        project,
        description="Words",
        status=TaskStatus.IN_PROGRESS,
        priority=Priority.HIGH,
        due_date=date(2024, 6, 1),
    )

    assert storage.tasks.get(project.owner_id, task.id) == task
    assert storage.tasks.get(new_id(), task.id) is None


def test_updating_a_task_changes_its_fields_and_its_place_in_sorts(
    storage: Storage, project: Project
) -> None:
    low = add_task(storage, project, priority=Priority.LOW, due_date=date(2024, 6, 1))
    mid = add_task(storage, project, priority=Priority.MEDIUM)

    changed = replace(
        low,
        title="Now urgent",
        status=TaskStatus.DONE,
        priority=Priority.HIGH,
        due_date=None,
        updated_at=T0 + timedelta(minutes=5),
    )
    storage.tasks.update(changed)

    assert storage.tasks.get(project.owner_id, low.id) == changed
    by_priority = read_all_tasks(
        storage, project, TaskFilter(sort=TaskSort.PRIORITY), 5
    )
    assert ids(by_priority) == [low.id, mid.id]
    by_update = read_all_tasks(storage, project, TaskFilter(sort=TaskSort.UPDATED), 5)
    assert ids(by_update) == [low.id, mid.id]


def test_an_update_naming_another_owner_changes_no_task(
    storage: Storage, project: Project
) -> None:
    task = add_task(storage, project, title="Mine")

    storage.tasks.update(replace(task, owner_id=new_id(), title="Theirs"))

    assert storage.tasks.get(project.owner_id, task.id) == task


def test_only_the_owner_can_delete_a_task(storage: Storage, project: Project) -> None:
    task = add_task(storage, project)

    assert storage.tasks.delete(new_id(), task.id) is False
    assert storage.tasks.delete(project.owner_id, task.id) is True
    assert storage.tasks.get(project.owner_id, task.id) is None
    assert storage.tasks.delete(project.owner_id, task.id) is False


def test_a_task_list_holds_only_that_projects_tasks(
    storage: Storage, owner: User, project: Project
) -> None:
    other_project = add_project(storage, owner)
    mine = add_task(storage, project)
    add_task(storage, other_project)

    page = storage.tasks.list(owner.id, project.id, TaskFilter(), PageRequest())
    strangers = storage.tasks.list(new_id(), project.id, TaskFilter(), PageRequest())

    assert ids(page.items) == [mine.id]
    assert list(strangers.items) == []


def test_tasks_are_filtered_by_status_and_priority(
    storage: Storage, project: Project
) -> None:
    combos = itertools.product(TaskStatus, Priority)
    made = [add_task(storage, project, status=s, priority=p) for s, p in combos]

    done = read_all_tasks(storage, project, TaskFilter(status=TaskStatus.DONE), 4)
    high = read_all_tasks(storage, project, TaskFilter(priority=Priority.HIGH), 4)
    both = read_all_tasks(
        storage,
        project,
        TaskFilter(status=TaskStatus.TODO, priority=Priority.LOW),
        4,
    )

    assert sorted(ids(done)) == sorted(
        t.id for t in made if t.status is TaskStatus.DONE
    )
    assert sorted(ids(high)) == sorted(
        t.id for t in made if t.priority is Priority.HIGH
    )
    assert [(t.status, t.priority) for t in both] == [(TaskStatus.TODO, Priority.LOW)]


def test_the_due_range_includes_both_bounds_and_leaves_out_undated_tasks(
    storage: Storage, project: Project
) -> None:
    by_day = {
        day: add_task(storage, project, due_date=date(2024, 6, day))
        for day in range(1, 8)
    }
    add_task(storage, project, due_date=None)
    due = TaskSort.DUE

    between = TaskFilter(due_from=date(2024, 6, 2), due_to=date(2024, 6, 4), sort=due)
    from_only = TaskFilter(due_from=date(2024, 6, 6), sort=due)
    to_only = TaskFilter(due_to=date(2024, 6, 1), sort=due)

    assert ids(read_all_tasks(storage, project, between, 2)) == [
        by_day[2].id,
        by_day[3].id,
        by_day[4].id,
    ]
    assert ids(read_all_tasks(storage, project, from_only, 2)) == [
        by_day[6].id,
        by_day[7].id,
    ]
    assert ids(read_all_tasks(storage, project, to_only, 2)) == [by_day[1].id]


def test_due_order_is_soonest_first_with_undated_last_and_ties_by_id(
    storage: Storage, project: Project
) -> None:
    undated = [add_task(storage, project, id=ordered_id("t")) for _ in range(3)]
    late = add_task(storage, project, id=ordered_id("t"), due_date=date(2024, 9, 1))
    soon = [
        add_task(storage, project, id=ordered_id("t"), due_date=date(2024, 6, 1))
        for _ in range(3)
    ]

    listed = read_all_tasks(storage, project, TaskFilter(sort=TaskSort.DUE), 2)

    assert ids(listed) == ids([*soon, late, *undated])


def test_priority_order_is_highest_first_with_ties_by_id_descending(
    storage: Storage, project: Project
) -> None:
    medium = [add_task(storage, project, id=ordered_id("t")) for _ in range(4)]
    high = add_task(storage, project, id=ordered_id("t"), priority=Priority.HIGH)
    low = add_task(storage, project, id=ordered_id("t"), priority=Priority.LOW)

    listed = read_all_tasks(storage, project, TaskFilter(sort=TaskSort.PRIORITY), 3)

    assert ids(listed) == ids([high, *medium[::-1], low])


@pytest.mark.parametrize("sort", list(TaskSort))
def test_each_sort_pages_through_ties_without_repeats_or_gaps(
    storage: Storage, project: Project, sort: TaskSort
) -> None:
    moments = [T0, T0 + timedelta(seconds=1)]
    days = [None, date(2024, 6, 1), date(2024, 6, 2)]
    made = [
        add_task(
            storage,
            project,
            priority=list(Priority)[i % 3],
            due_date=days[i % 3 - 1],
            created_at=moments[i % 2],
            updated_at=moments[i // 9 % 2],
        )
        for i in range(18)
    ]

    listed = read_all_tasks(storage, project, TaskFilter(sort=sort), 4)

    assert ids(listed) == ids(sorted_as_specified(made, sort))


def test_a_cursor_from_another_sort_is_refused(
    storage: Storage, project: Project
) -> None:
    add_task(storage, project)
    add_task(storage, project)
    page = storage.tasks.list(
        project.owner_id, project.id, TaskFilter(), PageRequest(limit=1)
    )
    assert page.next_cursor is not None

    with pytest.raises(InvalidInput):
        storage.tasks.list(
            project.owner_id,
            project.id,
            TaskFilter(sort=TaskSort.PRIORITY),
            PageRequest(1, page.next_cursor),
        )
    with pytest.raises(InvalidInput):
        storage.tasks.list(
            project.owner_id,
            project.id,
            TaskFilter(sort=TaskSort.DUE),
            PageRequest(1, page.next_cursor),
        )


def test_deleting_a_projects_tasks_returns_their_ids_and_spares_others(
    storage: Storage, owner: User, project: Project
) -> None:
    doomed = [add_task(storage, project) for _ in range(5)]
    other_project = add_project(storage, owner)
    kept = add_task(storage, other_project)

    removed = storage.tasks.delete_by_project(project.id)

    assert sorted(removed) == sorted(ids(doomed))
    assert all(storage.tasks.get(owner.id, task.id) is None for task in doomed)
    assert storage.tasks.get(owner.id, kept.id) == kept
    assert storage.tasks.delete_by_project(project.id) == []


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from(list(Priority)),
            st.sampled_from(list(TaskStatus)),
            st.sampled_from([None, date(2024, 6, 1), date(2024, 6, 2)]),
            st.integers(min_value=0, max_value=2),
            st.integers(min_value=0, max_value=2),
        ),
        max_size=14,
    ),
    sort=st.sampled_from(list(TaskSort)),
    status=st.sampled_from([None, *TaskStatus]),
    limit=st.integers(min_value=1, max_value=5),
)
def test_pages_joined_are_the_whole_filtered_list_in_order(
    storage: Storage,
    owner: User,
    specs: list[tuple[Priority, TaskStatus, date | None, int, int]],
    sort: TaskSort,
    status: TaskStatus | None,
    limit: int,
) -> None:
    project = add_project(storage, owner)
    made = [
        add_task(
            storage,
            project,
            priority=priority,
            status=task_status,
            due_date=due,
            created_at=T0 + timedelta(milliseconds=created),
            updated_at=T0 + timedelta(milliseconds=updated),
        )
        for priority, task_status, due, created, updated in specs
    ]

    where = TaskFilter(status=status, sort=sort)
    listed = read_all_tasks(storage, project, where, limit)

    wanted = [task for task in made if status is None or task.status is status]
    assert ids(listed) == ids(sorted_as_specified(wanted, sort))


# The store itself


def test_migrating_again_applies_nothing(storage: Storage) -> None:
    assert storage.migrate() == []


def test_a_working_store_answers_a_ping(storage: Storage) -> None:
    storage.ping()
