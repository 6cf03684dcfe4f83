"""Benchmarks: documented commands that measure, not tests."""
