"""Projects and tasks: created, listed, filtered, sorted and paged."""

from __future__ import annotations

from client.conftest import Person


def test_a_created_project_is_listed_by_name(person: Person) -> None:
    made = person.cli.run("projects", "create", "Household", "--description", "Bills")

    listed = person.cli.json("projects", "list")

    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == listed["items"][0]["id"]
    assert listed["items"][0]["name"] == "Household"
    assert listed["items"][0]["description"] == "Bills"


def test_tasks_are_filtered_and_sorted_with_the_apis_filters(person: Person) -> None:
    project = person.cli.json("projects", "create", "Filtered")["id"]
    for title, priority, due in [
        ("Later", "high", "2030-03-01"),
        ("Sooner", "high", "2030-01-15"),
        ("Unimportant", "low", "2030-01-20"),
    ]:
        person.cli.json(
            "tasks",
            "create",
            "--project",
            project,
            title,
            "--priority",
            priority,
            "--due",
            due,
        )

    high = person.cli.json(
        "tasks", "list", "--project", project, "--priority", "high", "--sort", "due"
    )
    january = person.cli.json(
        "tasks",
        "list",
        "--project",
        project,
        "--due-from",
        "2030-01-01",
        "--due-to",
        "2030-01-31",
    )

    assert [t["title"] for t in high["items"]] == ["Sooner", "Later"]
    assert {t["title"] for t in january["items"]} == {"Sooner", "Unimportant"}


def test_a_task_list_reads_as_a_table(person: Person) -> None:
    project = person.cli.json("projects", "create", "Table")["id"]
    person.cli.run(
        "tasks", "create", "--project", project, "Pay rent", "--status", "done"
    )

    done = person.cli.run("tasks", "list", "--project", project, "--status", "done")

    header, row = done.stdout.splitlines()
    assert header.split() == ["ID", "STATUS", "PRIORITY", "DUE", "TITLE"]
    assert row.split()[1:] == ["done", "medium", "-", "Pay", "rent"]


def test_one_page_hints_at_the_next_and_all_follows_every_page(
    person: Person,
) -> None:
    for name in ("One", "Two", "Three"):
        person.cli.json("projects", "create", name)

    first = person.cli.run("projects", "list", "--limit", "2")
    every = person.cli.json("projects", "list", "--limit", "2", "--all")

    assert first.returncode == 0, first.stderr
    assert "more: add --cursor" in first.stderr
    assert [p["name"] for p in every["items"]] == ["Three", "Two", "One"]
    assert every["next_cursor"] is None


def test_a_project_that_is_not_yours_exits_3(person: Person) -> None:
    done = person.cli.run("tasks", "list", "--project", "not-a-project")

    assert done.returncode == 3
    assert "No such project" in done.stderr
