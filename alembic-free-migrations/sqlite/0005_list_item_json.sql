-- Each project and task keeps its list item as JSON text, the fields the
-- list pages show (project_item and task_item in domain/listing.py), so a
-- page is read as one stored string a row instead of being written again
-- on every request. Triggers rewrite it whenever a row is added or any of
-- those fields changes, whoever writes the row; it costs each row its
-- fields stored a second time. json_object is built into SQLite from 3.38
-- (Debian 12 has 3.40): an older library without the JSON extension fails
-- this migration, and the service does not start.

ALTER TABLE projects ADD COLUMN item_json TEXT;

UPDATE projects SET item_json = json_object(
    'id', id, 'name', name, 'description', description,
    'created_at', created_at, 'updated_at', updated_at
);

CREATE TRIGGER projects_item_json_on_insert AFTER INSERT ON projects
BEGIN
    UPDATE projects SET item_json = json_object(
        'id', NEW.id, 'name', NEW.name, 'description', NEW.description,
        'created_at', NEW.created_at, 'updated_at', NEW.updated_at
    ) WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER projects_item_json_on_update
AFTER UPDATE OF id, name, description, created_at, updated_at ON projects
BEGIN
    UPDATE projects SET item_json = json_object(
        'id', NEW.id, 'name', NEW.name, 'description', NEW.description,
        'created_at', NEW.created_at, 'updated_at', NEW.updated_at
    ) WHERE rowid = NEW.rowid;
END;

ALTER TABLE tasks ADD COLUMN item_json TEXT;

UPDATE tasks SET item_json = json_object(
    'id', id, 'project_id', project_id, 'title', title,
    'description', description, 'status', status, 'priority', priority,
    'due_date', due_date, 'created_at', created_at, 'updated_at', updated_at
);

CREATE TRIGGER tasks_item_json_on_insert AFTER INSERT ON tasks
BEGIN
    UPDATE tasks SET item_json = json_object(
        'id', NEW.id, 'project_id', NEW.project_id, 'title', NEW.title,
        'description', NEW.description, 'status', NEW.status,
        'priority', NEW.priority, 'due_date', NEW.due_date,
        'created_at', NEW.created_at, 'updated_at', NEW.updated_at
    ) WHERE rowid = NEW.rowid;
END;

CREATE TRIGGER tasks_item_json_on_update
AFTER UPDATE OF id, project_id, title, description, status, priority,
    due_date, created_at, updated_at ON tasks
BEGIN
    UPDATE tasks SET item_json = json_object(
        'id', NEW.id, 'project_id', NEW.project_id, 'title', NEW.title,
        'description', NEW.description, 'status', NEW.status,
        'priority', NEW.priority, 'due_date', NEW.due_date,
        'created_at', NEW.created_at, 'updated_at', NEW.updated_at
    ) WHERE rowid = NEW.rowid;
END;
