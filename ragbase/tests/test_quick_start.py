"""The .env that `python3 run.py start` writes on a fresh clone: new keys, and the production
configuration (DEBUG off) served over plain http on the machine itself."""
import run
from ragbase.testing import run_manage

SHOW_SETTINGS = (
    "from django.conf import settings as s; "
    "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS)"
)


def written_env(tmp_path, monkeypatch) -> dict[str, str]:
    monkeypatch.setattr(run, "ENV_FILE", tmp_path / ".env")
    run.ensure_env_file()
    lines = (tmp_path / ".env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_the_quick_start_runs_with_debug_off_over_http(tmp_path, monkeypatch):
    values = written_env(tmp_path, monkeypatch)
    shown = run_manage(tmp_path, "shell", "-c", SHOW_SETTINGS, **values)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-1].split() == ["False", "False", "False", "False", "0"]


def test_an_existing_env_is_kept_and_new_keys_differ(tmp_path, monkeypatch):
    first = written_env(tmp_path, monkeypatch)
    run.ensure_env_file()
    assert written_env(tmp_path, monkeypatch) == first
    (tmp_path / ".env").unlink()
    second = written_env(tmp_path, monkeypatch)
    assert second["SECRET_KEY"] != first["SECRET_KEY"] and second["APP_ENCRYPTION_KEY"] != first["APP_ENCRYPTION_KEY"]
