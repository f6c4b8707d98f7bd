"""A killed server's temp folders go at the next start; a running server's and others' stay."""
import os
import subprocess
import sys
import tempfile

from ragbase.temp_leftovers import remove_folders_of_killed_servers


def test_only_the_folders_of_servers_that_no_longer_run_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead = int(gone.stdout)
    left = [tmp_path / f"ragbase-store-{dead}-k2j4", tmp_path / f"ragbase-metrics-{dead}-x8q1"]
    running = tmp_path / f"ragbase-metrics-{os.getpid()}-a1b2"
    unrelated = [tmp_path / "ragbase-storeroom", tmp_path / f"ragbase-bench-{dead}-zz"]
    for folder in [*left, running, *unrelated]:
        folder.mkdir()
        (folder / "owner.sock").write_text("")
    (tmp_path / f"ragbase-store-{dead}-file").write_text("not a folder")
    assert sorted(remove_folders_of_killed_servers()) == sorted(left)
    assert not any(folder.exists() for folder in left)
    assert running.exists() and all(folder.exists() for folder in unrelated)
    assert (tmp_path / f"ragbase-store-{dead}-file").exists()
