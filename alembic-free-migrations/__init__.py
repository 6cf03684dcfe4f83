"""Numbered migrations for SQLite (schema) and MongoDB (indexes)."""
