"""Settings, read once from the environment and an optional ``.env`` file.

Each production adapter is switched on by its own setting: ``MONGO_URL``
for MongoDB, ``REDIS_HOST`` for Dramatiq and Redis pub/sub, the
``CLOUDINARY_*`` trio for Cloudinary, ``OPENAI_API_KEY`` (or
``OPENAI_BASE_URL``) for an OpenAI-compatible summarizer. Left unset, each
falls back to its embedded adapter.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

MIN_SECRET_BYTES = 32


class SettingsError(ValueError):
    """Raised when a setting is missing, malformed or unsafe.

    The message names the setting, so start-up can print it as one line.
    """


@dataclass(frozen=True)
class Settings:
    port: int = 4000
    data_dir: Path = Path("data")
    jwt_secret: str = ""
    jwt_ttl_seconds: int = 3600
    mongo_url: str | None = None
    redis_host: str | None = None
    redis_port: int = 6379
    worker_secret: str | None = None
    worker_secret_previous: str | None = None
    require_worker_signature: bool = False
    api_url: str | None = None
    cloudinary_cloud_name: str | None = None
    cloudinary_api_key: str | None = None
    cloudinary_api_secret: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    openai_timeout_seconds: int = 60
    cloudinary_api_url: str = "https://api.cloudinary.com"
    log_format: str = "text"
    log_level: str = "INFO"
    web_concurrency: int = 1
    max_upload_bytes: int = 25 * 1024 * 1024
    max_jobs_in_flight: int = 20
    max_streams_per_user: int = 20
    sse_heartbeat_seconds: float = 15.0
    ocr_max_pages: int = 200
    ocr_max_pixels: int = 40_000_000
    ocr_page_timeout_seconds: int = 60
    tesseract_cmd: str = "tesseract"
    job_max_attempts: int = 3
    job_stale_seconds: int = 300
    job_requeue_seconds: int = 120
    sweep_seconds: int = 60
    login_failures_per_address: str = "30 per 10 minutes"
    login_failures_per_account: str = "10 per 10 minutes"
    trusted_proxies: int = 0
    cors_origins: tuple[str, ...] = ()

    @property
    def heartbeat_seconds(self) -> float:
        """How often a worker says it is alive: well inside JOB_STALE_SECONDS."""
        return self.job_stale_seconds / 3

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "tasks.sqlite3"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def uses_cloudinary(self) -> bool:
        return self.cloudinary_cloud_name is not None

    @property
    def uses_openai(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def worker_api_url(self) -> str:
        """Where a worker process finds the API's internal routes."""
        return self.api_url or f"http://127.0.0.1:{self.port}"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ``SettingsError`` on the first bad one.

    With no ``environ`` the process environment is read, after a ``.env``
    file in the working directory if there is one (the environment wins).
    """
    if environ is None:
        _load_dotenv()
        environ = os.environ
    env = {key: value for key, value in environ.items() if value != ""}

    data_dir = Path(env.get("DATA_DIR", "data")).expanduser()
    mongo_url = env.get("MONGO_URL")
    redis_host = env.get("REDIS_HOST")

    settings = Settings(
        port=_integer(env, "PORT", 4000, low=1, high=65535),
        data_dir=data_dir,
        jwt_secret=_jwt_secret(env, data_dir, production=mongo_url is not None),
        jwt_ttl_seconds=_integer(env, "JWT_TTL_SECONDS", 3600, low=60),
        mongo_url=_mongo_url(env),
        redis_host=redis_host,
        redis_port=_integer(env, "REDIS_PORT", 6379, low=1, high=65535),
        worker_secret=_worker_secret(env, required=redis_host is not None),
        worker_secret_previous=_worker_secret(
            env, required=False, name="WORKER_SECRET_PREVIOUS"
        ),
        require_worker_signature=_flag(env, "REQUIRE_WORKER_SIGNATURE"),
        api_url=env.get("API_URL"),
        **_cloudinary(env),
        openai_api_key=env.get("OPENAI_API_KEY"),
        openai_base_url=env.get("OPENAI_BASE_URL"),
        openai_model=env.get("OPENAI_MODEL", "gpt-4o-mini"),
        openai_timeout_seconds=_integer(
            env, "OPENAI_TIMEOUT_SECONDS", 60, low=1, high=600
        ),
        cloudinary_api_url=_http_url(
            env, "CLOUDINARY_API_URL", "https://api.cloudinary.com"
        ),
        log_format=_choice(env, "LOG_FORMAT", "text", {"text", "json"}),
        log_level=_choice(
            env, "LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}
        ),
        web_concurrency=_integer(env, "WEB_CONCURRENCY", 1, low=1, high=64),
        max_upload_bytes=_integer(env, "MAX_UPLOAD_BYTES", 25 * 1024 * 1024, low=1024),
        max_jobs_in_flight=_integer(env, "MAX_JOBS_IN_FLIGHT", 20, low=1),
        max_streams_per_user=_integer(env, "MAX_STREAMS_PER_USER", 20, low=1),
        sse_heartbeat_seconds=_integer(
            env, "SSE_HEARTBEAT_SECONDS", 15, low=1, high=300
        ),
        ocr_max_pages=_integer(env, "OCR_MAX_PAGES", 200, low=1, high=10_000),
        ocr_max_pixels=_integer(
            env, "OCR_MAX_PIXELS", 40_000_000, low=10_000, high=1_000_000_000
        ),
        ocr_page_timeout_seconds=_integer(
            env, "OCR_PAGE_TIMEOUT_SECONDS", 60, low=1, high=3600
        ),
        tesseract_cmd=env.get("TESSERACT_CMD", "tesseract"),
        job_max_attempts=_integer(env, "JOB_MAX_ATTEMPTS", 3, low=1, high=20),
        job_stale_seconds=_integer(env, "JOB_STALE_SECONDS", 300, low=1),
        job_requeue_seconds=_integer(env, "JOB_REQUEUE_SECONDS", 120, low=1),
        sweep_seconds=_integer(env, "SWEEP_SECONDS", 60, low=1, high=3600),
        login_failures_per_address=_rate(
            env, "LOGIN_FAILURES_PER_ADDRESS", "30 per 10 minutes"
        ),
        login_failures_per_account=_rate(
            env, "LOGIN_FAILURES_PER_ACCOUNT", "10 per 10 minutes"
        ),
        trusted_proxies=_integer(env, "TRUSTED_PROXIES", 0, low=0, high=5),
        cors_origins=_origins(env),
    )

    if settings.web_concurrency > 1 and redis_host is None:
        raise SettingsError(
            "WEB_CONCURRENCY: more than one API process needs REDIS_HOST, "
            "because embedded events and jobs live inside one process."
        )
    return settings


def _load_dotenv() -> None:
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)


def _integer(
    env: Mapping[str, str],
    name: str,
    default: int,
    low: int | None = None,
    high: int | None = None,
) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}: expected a whole number, got {raw!r}.") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise SettingsError(f"{name}: {value} is outside {low}..{high}.")
    return value


def _choice(env: Mapping[str, str], name: str, default: str, allowed: set[str]) -> str:
    value = env.get(name, default)
    normalized = value.upper() if default.isupper() else value.lower()
    if normalized not in allowed:
        raise SettingsError(
            f"{name}: {value!r} is not one of {', '.join(sorted(allowed))}."
        )
    return normalized


def _rate(env: Mapping[str, str], name: str, default: str) -> str:
    """A rate such as '10 per 10 minutes' or '5/minute'."""
    from limits import parse

    value = env.get(name, default)
    try:
        parse(value)
    except ValueError:
        raise SettingsError(
            f"{name}: expected a rate such as '10 per 10 minutes', got {value!r}."
        ) from None
    return value


def _http_url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default)
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{name}: expected an http(s) URL, got {value!r}.")
    return value


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    """CORS_ORIGINS: comma-separated origins allowed to call the API."""
    origins = tuple(
        o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()
    )
    for origin in origins:
        parts = urlsplit(origin)
        if origin == "*" or parts.scheme not in {"http", "https"} or parts.path:
            raise SettingsError(
                f"CORS_ORIGINS: {origin!r} is not an origin such as "
                "https://app.example.com (no wildcards, no paths)."
            )
    return origins


def _jwt_secret(env: Mapping[str, str], data_dir: Path, production: bool) -> str:
    """The signing key: JWT_SECRET, or in embedded mode one kept under DATA_DIR."""
    secret = env.get("JWT_SECRET")
    if secret is not None:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"JWT_SECRET: must be at least {MIN_SECRET_BYTES} bytes long; "
                "generate one with `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`."
            )
        return secret
    if production:
        raise SettingsError(
            "JWT_SECRET: required when MONGO_URL is set, so every API "
            "process signs with the same key."
        )
    return _kept_secret(data_dir / "jwt-secret")


def _kept_secret(path: Path) -> str:
    """Read the secret at ``path``, creating it (mode 0600) the first time."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass

    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secret)
    return secret


def _worker_secret(
    env: Mapping[str, str], required: bool, name: str = "WORKER_SECRET"
) -> str | None:
    secret = env.get(name)
    if secret is None:
        if required:
            raise SettingsError(
                f"{name}: required when REDIS_HOST is set, because "
                "workers then report to the API over HTTP."
            )
        return None
    if len(secret.encode()) < MIN_SECRET_BYTES or not secret.isascii():
        raise SettingsError(
            f"{name}: must be ASCII and at least {MIN_SECRET_BYTES} bytes long."
        )
    return secret


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "false").lower()
    if value not in {"true", "false", "1", "0", "yes", "no"}:
        raise SettingsError(f"{name}: expected true or false, got {value!r}.")
    return value in {"true", "1", "yes"}


def _mongo_url(env: Mapping[str, str]) -> str | None:
    url = env.get("MONGO_URL")
    if url is not None and urlsplit(url).scheme not in {"mongodb", "mongodb+srv"}:
        raise SettingsError("MONGO_URL: expected a mongodb:// or mongodb+srv:// URL.")
    return url


def _cloudinary(env: Mapping[str, str]) -> dict[str, str | None]:
    """The CLOUDINARY_* settings: all three, or CLOUDINARY_URL, or none."""
    names = ("CLOUDINARY_CLOUD_NAME", "CLOUDINARY_API_KEY", "CLOUDINARY_API_SECRET")
    values = [env.get(name) for name in names]

    if url := env.get("CLOUDINARY_URL"):
        parts = urlsplit(url)
        if parts.scheme != "cloudinary" or not (
            parts.hostname and parts.username and parts.password
        ):
            raise SettingsError(
                "CLOUDINARY_URL: expected cloudinary://API_KEY:API_SECRET@CLOUD_NAME."
            )
        values = [parts.hostname, parts.username, parts.password]

    present = [value is not None for value in values]
    if any(present) and not all(present):
        missing = [
            name for name, value in zip(names, values, strict=True) if value is None
        ]
        raise SettingsError(
            f"{missing[0]}: the CLOUDINARY_* settings go together; set all three."
        )
    cloud_name, api_key, api_secret = values
    return {
        "cloudinary_cloud_name": cloud_name,
        "cloudinary_api_key": api_key,
        "cloudinary_api_secret": api_secret,
    }
