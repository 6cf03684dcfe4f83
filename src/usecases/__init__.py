"""Use cases: what a user or the worker can ask the service to do."""
