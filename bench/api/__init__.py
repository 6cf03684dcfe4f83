"""Throughput of the HTTP API against a bare Flask endpoint; see bench/README.md."""
