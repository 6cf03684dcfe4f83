"""Summarizers: a local extractive one and OpenAI-compatible servers."""
