"""Settings: production refuses unsafe values, naming them; the README documents every variable."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.settings import Settings, UnsafeSettings, load_settings

SAFE = dict(FLASK_ENV="production", INDEX_SERVER_KEY="k" * 24, ATLAS_API_KEY_PEPPER="p" * 24,
            DATABASE_URL="postgresql+pg8000://u@127.0.0.1/db", CORS_ORIGINS="https://app.example.com")


def test_safe_production_settings_start():
    load_settings(**SAFE).check_production()


@pytest.mark.parametrize("change,named", [
    ({"ATLAS_API_KEY_PEPPER": Settings.model_fields["api_key_pepper"].default}, "ATLAS_API_KEY_PEPPER"),
    ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS"),
    ({"ATLAS_DEBUG": True}, "ATLAS_DEBUG"),
    ({"DATABASE_URL": "sqlite:///x.db"}, "DATABASE_URL"),
    ({"ATLAS_LEGACY_TRUST_USER_ID": True, "ATLAS_HOST": "0.0.0.0"}, "ATLAS_LEGACY_TRUST_USER_ID"),
])
def test_production_refuses_unsafe_setting_and_names_it(change, named):
    with pytest.raises(UnsafeSettings, match=named):
        load_settings(**{**SAFE, **change}).check_production()


def test_index_server_key_is_no_longer_required():
    # nothing uses it (there is no separate index server), so production does not demand it
    load_settings(**{**SAFE, "INDEX_SERVER_KEY": None}).check_production()


def test_single_box_allows_sqlite_in_production():
    load_settings(**{**SAFE, "DATABASE_URL": "sqlite:///x.db", "ATLAS_SINGLE_BOX": True}).check_production()


def test_development_does_not_check():
    load_settings(FLASK_ENV="development", CORS_ORIGINS="*").check_production()


def test_postgres_url_from_seed_variables():
    s = load_settings(POSTGRES_HOST="db", POSTGRES_USER="u", POSTGRES_PASSWORD="pw", POSTGRES_DB="atlas")
    assert s.sqlalchemy_url == "postgresql+pg8000://u:pw@db:5432/atlas"


def test_readme_documents_every_environment_variable():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [f.alias for f in Settings.model_fields.values() if f"`{f.alias}`" not in readme]
    assert not missing, f"README lacks {missing}"


def test_cloud_sql_connector_counts_as_postgres_in_production():
    s = load_settings(**{**SAFE, "DATABASE_URL": None, "INSTANCE_CONNECTION_NAME": "p:r:i"})
    assert s.sqlalchemy_url.startswith("postgresql+pg8000")
    s.check_production()
