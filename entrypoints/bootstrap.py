"""Building the container and the app from settings."""

from __future__ import annotations

from dependency_injector import providers
from flask import Flask

from tasks_api.entrypoints.container import Container
from tasks_api.entrypoints.http.app import create_app
from tasks_api.entrypoints.settings import Settings, load_settings


def build_container(settings: Settings) -> Container:
    return Container(settings=providers.Object(settings))


def build_app(settings: Settings | None = None) -> Flask:
    """The app for one server process; embedded storage is migrated first."""
    settings = settings or load_settings()
    services = build_container(settings)
    if not settings.mongo_url:
        services.storage().migrate()
    return create_app(services)
