-- Users, projects and tasks.
--
-- Timestamps are UTC text with milliseconds (2024-05-06T07:08:09.123+00:00),
-- which sorts as the times do. Dates are ISO text (2024-05-06).
--
-- Rows name their owner and parent by id with no FOREIGN KEY clause: the
-- use cases delete a project before its tasks (so a crash leaves only
-- unreachable rows), and MongoDB can enforce no such link, so the three
-- stores keep the same rules.

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    email          TEXT NOT NULL,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    token_version  INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX users_email_unique ON users (email);

CREATE TABLE projects (
    id           TEXT PRIMARY KEY,
    owner_id     TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Serves the owner's list, newest first, and its keyset condition.
CREATE INDEX projects_by_owner_created ON projects (owner_id, created_at, id);

-- priority_rank and due_sort are written by the adapter from the priority
-- and due_date, so that each sort is an index range: priority_rank is
-- Priority.rank, and due_sort is due_date or '9999-99-99' (after any date)
-- for a task without one.
CREATE TABLE tasks (
    id             TEXT PRIMARY KEY,
    owner_id       TEXT NOT NULL,
    project_id     TEXT NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    status         TEXT NOT NULL,
    priority       TEXT NOT NULL,
    priority_rank  INTEGER NOT NULL,
    due_date       TEXT,
    due_sort       TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE INDEX tasks_by_project_created ON tasks (project_id, created_at, id);
CREATE INDEX tasks_by_project_updated ON tasks (project_id, updated_at, id);
CREATE INDEX tasks_by_project_due ON tasks (project_id, due_sort, id);
CREATE INDEX tasks_by_project_priority ON tasks (project_id, priority_rank, id);
CREATE INDEX tasks_by_project_status ON tasks (project_id, status);
