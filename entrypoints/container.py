"""The one dependency container: which adapter serves each port.

Every adapter is chosen from ``Settings`` here and nowhere else. Tests build
the container from their own settings, or override a provider:

    services = Container(settings=providers.Object(settings))
    services.storage.override(providers.Object(InMemoryStorage()))
"""

from __future__ import annotations

from dependency_injector import containers, providers

from tasks_api.adapters.security.passwords import Argon2PasswordHasher
from tasks_api.adapters.security.tokens import JwtTokenIssuer
from tasks_api.entrypoints.settings import Settings
from tasks_api.ports.storage import Storage
from tasks_api.usecases.auth import AuthService
from tasks_api.usecases.projects import ProjectService
from tasks_api.usecases.tasks import TaskService


def open_storage(settings: Settings) -> Storage:
    """MongoDB when MONGO_URL is set, else the SQLite file under DATA_DIR."""
    if settings.mongo_url:
        from tasks_api.adapters.storage.mongo import MongoStorage

        return MongoStorage.from_url(settings.mongo_url)

    from tasks_api.adapters.storage.sqlite import SqliteStorage

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteStorage(settings.sqlite_path)


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    storage = providers.Singleton(open_storage, settings)
    password_hasher = providers.Singleton(Argon2PasswordHasher)
    token_issuer = providers.Singleton(
        JwtTokenIssuer,
        secret=settings.provided.jwt_secret,
        lifetime_seconds=settings.provided.jwt_ttl_seconds,
    )

    auth = providers.Factory(AuthService, storage, password_hasher, token_issuer)
    projects = providers.Factory(ProjectService, storage)
    tasks = providers.Factory(TaskService, storage)

    # name -> a call that raises when that service does not answer
    readiness_checks = providers.Dict(storage=storage.provided.ping)
