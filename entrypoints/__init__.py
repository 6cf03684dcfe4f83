"""Entrypoints: the HTTP app, the worker and the command line, and their wiring."""
