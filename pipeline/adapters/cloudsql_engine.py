"""Cloud SQL for Postgres through the Cloud SQL Python connector (pg8000, optional IAM database auth)."""
from __future__ import annotations

import logging
from typing import Any, Callable

log = logging.getLogger(__name__)

# The URL only names the dialect and driver: the connector's creator supplies the socket, user and database.
CLOUDSQL_URL = "postgresql+pg8000://"


def make_connector(settings: Any, *, credentials: Any = None, ip_type: str = "private") -> Any:
    """A connector with lazy certificate refresh (Cloud Run throttles CPU between requests)."""
    from google.cloud.sql.connector import Connector, IPTypes, RefreshStrategy

    return Connector(ip_type=IPTypes(ip_type.upper()), enable_iam_auth=settings.db_iam_auth,
                     credentials=credentials, refresh_strategy=RefreshStrategy.LAZY)


def connect_kwargs(settings: Any) -> dict[str, Any]:
    """pg8000 arguments for the connector: no password with IAM auth (the token is the password)."""
    if not settings.postgres_user or not settings.postgres_db:
        raise ValueError("POSTGRES_USER and POSTGRES_DB must be set with INSTANCE_CONNECTION_NAME")
    kwargs: dict[str, Any] = {"user": settings.postgres_user, "db": settings.postgres_db,
                              "enable_iam_auth": settings.db_iam_auth}
    if not settings.db_iam_auth:
        if not settings.postgres_password:
            raise ValueError("POSTGRES_PASSWORD must be set unless DB_IAM_AUTH=true")
        kwargs["password"] = settings.postgres_password
    return kwargs


def cloudsql_creator(settings: Any, *, connector: Any = None, credentials: Any = None) -> Callable[[], Any]:
    """A SQLAlchemy `creator` opening pg8000 connections to INSTANCE_CONNECTION_NAME through the connector."""
    if not settings.instance_connection_name:
        raise ValueError("INSTANCE_CONNECTION_NAME is not set")
    kwargs = connect_kwargs(settings)
    conn_name = settings.instance_connection_name
    connector = connector if connector is not None else make_connector(settings, credentials=credentials)

    def creator() -> Any:
        return connector.connect(conn_name, "pg8000", **kwargs)

    log.info("cloud sql connector configured", extra={"instance": conn_name, "iam_auth": settings.db_iam_auth})
    return creator


def engine_url(settings: Any) -> str:
    """The SQLAlchemy URL to pair with the creator (or the plain URL when there is no Cloud SQL instance)."""
    return CLOUDSQL_URL if settings.instance_connection_name else settings.sqlalchemy_url


def engine_for(settings: Any, *, connector: Any = None, credentials: Any = None) -> Any:
    """An engine for the settings: through the connector when INSTANCE_CONNECTION_NAME is set, else plain."""
    from pipeline.adapters.sql_engine import make_engine

    creator = None
    if settings.instance_connection_name:
        creator = cloudsql_creator(settings, connector=connector, credentials=credentials)
    return make_engine(engine_url(settings), pool_size=settings.db_pool_size, creator=creator)
