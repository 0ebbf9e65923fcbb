"""The one settings module: configured from the environment, refusing unsafe production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "k" * 30 + "Qz9!kLp2@#vB7&mN4^rT6*wY1"


def _run(*args, **env):
    base = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "ALLOWED_HOSTS",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
        }
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _setting(name, **env):
    code = f"import django, os; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    env.setdefault("DJANGO_SETTINGS_MODULE", "smr.settings")
    result = _run("-c", code, **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_embedded_default_is_sqlite_and_eager_celery():
    assert "sqlite3" in _setting("DATABASES['default']['ENGINE']")
    assert _setting("CELERY_TASK_ALWAYS_EAGER") == "True"


def test_database_url_and_broker_switch_to_postgresql_and_redis():
    env = {
        "DATABASE_URL": "postgres://smr:pw@db.internal:5432/smr",
        "CELERY_BROKER_URL": "redis://redis.internal:6379/0",
    }
    assert "postgresql" in _setting("DATABASES['default']['ENGINE']", **env)
    assert _setting("CELERY_TASK_ALWAYS_EAGER", **env) == "False"


def test_debug_off_without_a_secret_key_refuses_to_start():
    result = _run("manage.py", "check", DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_a_malformed_boolean_is_a_clear_error():
    result = _run("manage.py", "check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.parametrize("extra", [{}, {"DATABASE_URL": "postgres://smr@127.0.0.1:5432/smr"}])
def test_check_deploy_reports_nothing_in_production(extra):
    result = _run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=STRONG_KEY,
        ALLOWED_HOSTS="smr.example.nl",
        **extra,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_email_settings_come_from_the_environment():
    env = {
        "EMAIL_HOST": "smtp.example.nl",
        "EMAIL_PORT": "587",
        "EMAIL_USE_TLS": "true",
        "DEBUG": "false",
        "SECRET_KEY": STRONG_KEY,
    }
    assert _setting("EMAIL_HOST", **env) == "'smtp.example.nl'"
    assert _setting("EMAIL_PORT", **env) == "587"
    assert _setting("EMAIL_BACKEND", **env) == "'django.core.mail.backends.smtp.EmailBackend'"


def test_pgbouncer_in_transaction_mode_switches_off_server_side_cursors():
    env = {"DATABASE_URL": "postgres://smr:pw@pgbouncer.internal:6432/smr"}
    assert _setting("DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']", **env) == "False"
    env["DATABASE_DISABLE_SERVER_SIDE_CURSORS"] = "true"
    env["DATABASE_CONN_MAX_AGE"] = "60"
    assert _setting("DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS']", **env) == "True"
    assert _setting("DATABASES['default']['CONN_MAX_AGE']", **env) == "60"


def test_cache_url_shares_the_rate_limits_between_processes_through_redis():
    assert "LocMemCache" in _setting("CACHES['default']['BACKEND']")
    env = {"CACHE_URL": "redis://redis.internal:6379/2"}
    assert "RedisCache" in _setting("CACHES['default']['BACKEND']", **env)
    result = _run("manage.py", "check", CACHE_URL="memcached://x")
    assert result.returncode != 0
    assert "CACHE_URL must be a redis:// URL" in result.stderr


def test_the_number_of_audit_chains_is_bounded():
    assert _setting("AUDIT_CHAINS") == "16"
    result = _run("manage.py", "check", AUDIT_CHAINS="0")
    assert result.returncode != 0
    assert "AUDIT_CHAINS must be between 1 and 1000" in result.stderr


def test_the_reports_refresh_interval_is_checked_and_scheduled():
    assert _setting("REPORTS_REFRESH_MINUTES") == "15"
    schedule = "CELERY_BEAT_SCHEDULE['reports-refresh-current']['schedule']"
    assert _setting(schedule, REPORTS_REFRESH_MINUTES="5") == "300.0"
    result = _run("manage.py", "check", REPORTS_REFRESH_MINUTES="0")
    assert result.returncode != 0
    assert "REPORTS_REFRESH_MINUTES must be between 1 and 1440" in result.stderr
    result = _run("manage.py", "check", REPORTS_REFRESH_MINUTES="30", REPORTS_FRESH_MINUTES="20")
    assert "REPORTS_FRESH_MINUTES must be at least REPORTS_REFRESH_MINUTES" in result.stderr
