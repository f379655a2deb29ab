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
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"}}
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
    )
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
