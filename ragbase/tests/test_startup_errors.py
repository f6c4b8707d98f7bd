"""Starting with a broken configuration prints one clear line and exits non-zero."""
import pytest

from ragbase.testing import run_manage


@pytest.mark.parametrize("bad_key", ["", "abc", "zz" * 32, "00" * 16])
def test_bad_encryption_key_is_one_clear_line(tmp_path, bad_key):
    result = run_manage(tmp_path, "check", APP_ENCRYPTION_KEY=bad_key)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "APP_ENCRYPTION_KEY" in lines[0] and "secrets.token_hex(32)" in lines[0]


def test_unreachable_database_is_one_clear_line(tmp_path):
    result = run_manage(tmp_path, "migrate", DATABASE_URL="postgres://nobody:x@127.0.0.1:9/nothing")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot reach the database" in lines[0] and "DATABASE_URL" in lines[0]


def test_good_configuration_passes_the_system_checks(tmp_path):
    result = run_manage(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
