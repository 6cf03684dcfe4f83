"""Settings: defaults, each production adapter's switch, and refusals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tasks_api.entrypoints.settings import SettingsError, load_settings

LONG = "x" * 40


def test_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings({"DATA_DIR": str(tmp_path)})

    assert settings.port == 4000
    assert settings.mongo_url is None and settings.redis_host is None
    assert not settings.uses_cloudinary and not settings.uses_openai
    assert settings.sqlite_path == tmp_path / "tasks.sqlite3"


def test_embedded_mode_generates_a_jwt_secret_once_and_keeps_it(tmp_path: Path) -> None:
    first = load_settings({"DATA_DIR": str(tmp_path)}).jwt_secret
    second = load_settings({"DATA_DIR": str(tmp_path)}).jwt_secret

    assert first == second
    assert len(first) >= 32
    assert os.stat(tmp_path / "jwt-secret").st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"JWT_SECRET": "short"}, "JWT_SECRET"),
        ({"MONGO_URL": "mongodb://db/tasks"}, "JWT_SECRET"),
        ({"MONGO_URL": "http://db", "JWT_SECRET": LONG}, "MONGO_URL"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"REDIS_HOST": "redis"}, "WORKER_SECRET"),
        ({"REDIS_HOST": "redis", "WORKER_SECRET": "short"}, "WORKER_SECRET"),
        ({"CLOUDINARY_CLOUD_NAME": "demo"}, "CLOUDINARY_API_KEY"),
        ({"CLOUDINARY_URL": "https://nope"}, "CLOUDINARY_URL"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        ({"WEB_CONCURRENCY": "4"}, "WEB_CONCURRENCY"),
    ],
)
def test_a_bad_setting_is_refused_with_its_name(
    tmp_path: Path, environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"DATA_DIR": str(tmp_path), **environ})

    assert str(refused.value).startswith(named + ":")


def test_each_production_adapter_has_its_own_switch(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "JWT_SECRET": LONG,
            "MONGO_URL": "mongodb://db:27017/tasks",
            "REDIS_HOST": "redis",
            "REDIS_PORT": "6380",
            "WORKER_SECRET": LONG,
            "CLOUDINARY_URL": "cloudinary://key:secret@demo",
            "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1",
        }
    )

    assert settings.mongo_url == "mongodb://db:27017/tasks"
    assert (settings.redis_host, settings.redis_port) == ("redis", 6380)
    assert (
        settings.cloudinary_cloud_name == "demo"
        and settings.cloudinary_api_secret == "secret"
    )
    assert settings.uses_openai and settings.openai_api_key is None


def test_the_cli_prints_one_line_naming_a_bad_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tasks_api.entrypoints.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("JWT_SECRET", "too-short")

    code = main(["migrate"])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err == [err[0]] and "JWT_SECRET" in err[0]
