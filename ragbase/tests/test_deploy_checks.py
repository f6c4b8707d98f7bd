"""`manage.py check --deploy` is clean with production settings; config mistakes are check errors."""
import secrets

import pytest
from django.core.checks import run_checks

from ragbase.testing import run_manage

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "ragbase.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://ragbase.example.com",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "GOOGLE_OAUTH_CLIENT_ID": "ragbase-client.apps.googleusercontent.com",
    "GOOGLE_OAUTH_CLIENT_SECRET": secrets.token_urlsafe(24),
}


def test_check_deploy_is_clean_in_production(tmp_path):
    result = run_manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "WARNING" not in result.stderr and "no issues" in result.stdout


def test_wildcard_allowed_hosts_is_an_error_in_production(tmp_path):
    result = run_manage(tmp_path, "check", **{**PRODUCTION_ENV, "ALLOWED_HOSTS": "*"})
    assert result.returncode == 1
    assert "ragbase.E011" in result.stderr


def test_q_retry_not_above_timeout_is_an_error(settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "timeout": 600, "retry": 600}
    assert "ragbase.E010" in [m.id for m in run_checks()]
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": 660}
    assert "ragbase.E010" not in [m.id for m in run_checks()]


@pytest.mark.parametrize("name", ["OUTBOX_BATCH_SIZE", "OUTBOX_DRAIN_THREADS", "OUTBOX_MAX_ATTEMPTS"])
def test_outbox_settings_below_one_are_errors(settings, name):
    assert "ragbase.E012" not in [m.id for m in run_checks()]
    setattr(settings, name, 0)
    errors = [m for m in run_checks() if m.id == "ragbase.E012"]
    assert len(errors) == 1 and name in errors[0].msg


def test_connections_beyond_max_connections_are_an_error(settings):
    """Pools × web processes + django-q2 + the drain + a reserve must fit below max_connections."""
    assert "ragbase.E020" not in [m.id for m in run_checks()]  # the defaults fit 100 in both modes
    settings.QDRANT_URL = "http://qdrant:6333"
    settings.GUNICORN_WORKERS, settings.DB_POOL_MAX_SIZE = 4, 25
    errors = [m for m in run_checks() if m.id == "ragbase.E020"]
    assert len(errors) == 1 and "web 4 × DB_POOL_MAX_SIZE 25" in errors[0].msg and "max_connections=100" in errors[0].msg
    settings.DB_MAX_CONNECTIONS = 200
    assert "ragbase.E020" not in [m.id for m in run_checks()]
    settings.QDRANT_URL, settings.DB_MAX_CONNECTIONS = "", 100  # embedded: the same web processes, and the owner's two
    errors = [m for m in run_checks() if m.id == "ragbase.E020"]
    assert len(errors) == 1 and "web 4 × DB_POOL_MAX_SIZE 25 + 2 store owner" in errors[0].msg
    settings.GUNICORN_WORKERS = 2
    assert "ragbase.E020" not in [m.id for m in run_checks()]
