-- When a queued job is due: a retry's delay, or the sweep's last send.
ALTER TABLE jobs ADD COLUMN due_at TEXT;
