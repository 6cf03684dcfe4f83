"""Fault tests: real processes killed, restarted and starved mid-run."""
