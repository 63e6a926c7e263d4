"""WSGI entry for gunicorn (`gunicorn 'api.wsgi:create()'`): the app is built when gunicorn calls the factory."""
from __future__ import annotations

from flask import Flask


def create() -> Flask:
    """Settings from the environment, JSON logs, production checks, then the app (no migrations at start-up)."""
    from api.app import create_app
    from pipeline.logging_setup import configure_logging
    from pipeline.settings import load_settings
    from pipeline.tracing import setup_tracing

    settings = load_settings()
    configure_logging(settings.log_level)
    setup_tracing(settings, service_name="atlas-api")
    settings.check_production()
    # gunicorn does not tell the app which address it bound (the image binds 0.0.0.0): never trust user ids here
    settings.check_bind("the gunicorn bind address")
    return create_app(settings=settings)
