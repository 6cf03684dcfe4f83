"""Storage adapters: in memory, SQLite and MongoDB."""
