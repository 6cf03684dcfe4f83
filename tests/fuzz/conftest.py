"""Settings for fuzzing uploads: a small size limit, no cap on jobs."""

from __future__ import annotations

from pathlib import Path

import pytest
from accounts import TEST_SECRET

from tasks_api.entrypoints.settings import Settings, load_settings

# Small, so that some fuzzed files are over it and get their 413.
MAX_UPLOAD_BYTES = 4096


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "JWT_SECRET": TEST_SECRET,
            "MAX_UPLOAD_BYTES": str(MAX_UPLOAD_BYTES),
            # Every accepted upload stays queued; a cap would answer 429.
            "MAX_JOBS_IN_FLIGHT": "1000000",
        }
    )
