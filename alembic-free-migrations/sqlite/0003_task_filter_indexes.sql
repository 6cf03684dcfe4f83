-- Filtered task lists: the equality filters first, then the sort key, so
-- a page is read in order from the index instead of filtered row by row.
CREATE INDEX tasks_by_project_status_priority_due
    ON tasks (project_id, status, priority_rank, due_sort, id);
CREATE INDEX tasks_by_project_status_due ON tasks (project_id, status, due_sort, id);
CREATE INDEX tasks_by_project_status_created
    ON tasks (project_id, status, created_at, id);
