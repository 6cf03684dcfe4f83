"""Event publishers: in-process fan-out and Redis pub/sub."""
