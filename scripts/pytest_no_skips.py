"""A pytest plugin that fails a run in which any test was skipped.

``scripts/test`` loads it: there, a skip means a service the suite needs
(Redis, Tesseract) was missing, and a missing service must fail CI
rather than pass it quietly. Tests that only apply when an optional
service is configured (a real MongoDB at ``MONGO_URL``) are parametrized
out instead of skipped, so they do not trip it.
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == pytest.ExitCode.OK:
        reporter.write("\n")
        reporter.write_line(
            f"pytest_no_skips: {len(skipped)} test(s) skipped; failing the run.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
