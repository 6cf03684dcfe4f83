"""What the API benches ask of the service: the seeded data and the pages read.

Shared by ``python -m bench.api`` (over HTTP, under gunicorn) and
``python -m bench.api.inprocess`` (the WSGI app called directly), so both
measure the same requests on the same data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

PROJECTS = 30
TASKS = 200
STATUSES = ("todo", "in_progress", "done")
PRIORITIES = ("low", "medium", "high")
PAGE_SIZE = 20

PROJECT_PAGE = f"/api/v1/projects?limit={PAGE_SIZE}"
PROJECT_ROUTE = "/api/v1/projects"
TASK_ROUTE = "/api/v1/projects/<project_id>/tasks"
TASK_FILTER = f"status=todo&priority=high&sort=due&limit={PAGE_SIZE}"

# POST a JSON body to a path with extra headers; returns the answer's JSON
# and raises on an error status.
Post = Callable[[str, dict, Mapping[str, str]], dict]


def task_page(project_id: str) -> str:
    """The filtered task list the benches read, for one project."""
    return f"/api/v1/projects/{project_id}/tasks?{TASK_FILTER}"


def seed(post: Post) -> tuple[str, str]:
    """Make the user, projects and tasks; return a token and the busy project."""
    account = {"email": "bench@example.com", "password": "bench-password-1"}
    post("/api/v1/auth/register", {**account, "name": "Bench"}, {})
    token = post("/api/v1/auth/login", account, {})["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}

    project_ids = [
        post("/api/v1/projects", {"name": f"Project {number}"}, bearer)["id"]
        for number in range(PROJECTS)
    ]

    busy = project_ids[0]
    today = dt.date.today()
    for number in range(TASKS):
        # Status and priority cycle independently, so each of the nine
        # pairs holds about TASKS / 9 tasks; every fifth has no due date.
        due = None if number % 5 == 0 else today + dt.timedelta(days=number % 60)
        task = {
            "title": f"Task {number}",
            "description": "Something to do before the deadline.",
            "status": STATUSES[number % 3],
            "priority": PRIORITIES[(number // 3) % 3],
            "due_date": due.isoformat() if due else None,
        }
        post(f"/api/v1/projects/{busy}/tasks", task, bearer)
    return token, busy
