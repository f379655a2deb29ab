import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_env(**extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "KB_BASE_URL", "WAGTAILADMIN_BASE_URL"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "kb.settings.production"
    env.update(extra)
    return env


def test_production_refuses_to_start_without_its_secrets():
    result = run_manage("check", env=production_env())
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_passes_the_deploy_check(tmp_path):
    env = production_env(
        SECRET_KEY="x" * 64 + "-a-long-random-production-secret-for-the-check",
        ALLOWED_HOSTS="kb.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        KB_BASE_URL="https://kb.example.org",
    )
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_requires_the_base_url_like_allowed_hosts(tmp_path):
    env = production_env(
        SECRET_KEY="x" * 64,
        ALLOWED_HOSTS="kb.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "Set the KB_BASE_URL environment variable for production." in result.stderr


SERVE_ONE_REQUEST = """
import django
django.setup()
from django.test import Client
response = Client(raise_request_exception=False).get("/", HTTP_HOST="kb.example.org")
print("status", response.status_code)
"""


def test_production_logs_errors_with_their_tracebacks_to_stderr(tmp_path):
    # A database never migrated: the home page fails with a 500, as a real fault would.
    env = production_env(
        SECRET_KEY="x" * 64,
        ALLOWED_HOSTS="kb.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        KB_BASE_URL="https://kb.example.org",
        SECURE_SSL_REDIRECT="false",
        KB_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", SERVE_ONE_REQUEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "status 500" in result.stdout, result.stdout + result.stderr
    assert "ERROR django.request: Internal Server Error: /" in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert "no such table" in result.stderr
