"""`manage.py serve` and the vector store at start: one clear line when it cannot have it (or when
gunicorn is started without serve in embedded mode); indexing before serving."""
import os
import subprocess
import sys

import pytest

from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from ragbase.testing import ROOT, run_manage


def test_unreachable_qdrant_url_is_one_clear_line(tmp_path):
    (tmp_path / "tmp").mkdir()
    result = run_manage(tmp_path, "serve", "127.0.0.1:0", "--no-workers", QDRANT_URL="http://127.0.0.1:9",
                        TMPDIR=str(tmp_path / "tmp"))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot reach the Qdrant server" in lines[0] and "QDRANT_URL" in lines[0]
    assert not list((tmp_path / "tmp").glob("ragbase-*"))  # serve made its metrics folder, and removed it


def test_a_second_owner_of_the_embedded_store_is_refused_in_one_line(tmp_path):
    owner = EdgeVectorIndex(path=tmp_path / "qdrant", collection="c")
    try:
        result = run_manage(tmp_path, "serve", "127.0.0.1:0", "--no-workers", QDRANT_PATH=str(tmp_path / "qdrant"))
    finally:
        owner.close()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "is owned by process" in lines[0] and "set QDRANT_URL" in lines[0]


@pytest.mark.django_db
def test_serve_indexes_the_embedded_store_before_serving_unless_turned_off(vector_index, settings):
    from chunks.outbox.drain import drain
    from ragbase.management.commands.serve import index_embedded_store_at_start
    from ragbase.testing import ensured, make_chunks

    settings.QDRANT_INDEX_ON_START = False
    assert index_embedded_store_at_start(vector_index) is None
    settings.QDRANT_INDEX_ON_START = True
    assert index_embedded_store_at_start(vector_index) is None  # no collection yet: nothing to index
    make_chunks(50)
    drain(index=ensured(vector_index))
    said = []
    assert "50 points: segments" in index_embedded_store_at_start(vector_index, report=said.append)
    assert said and "indexing" in said[0] and vector_index.count() == 50


def test_a_store_made_for_other_models_stops_serve_in_one_line_naming_reindex(tmp_path):
    store = EdgeVectorIndex(path=tmp_path / "qdrant", collection="ragbase_hybrid")
    store.ensure_collection(dense_dim=3, model_id="another-model")
    store.close()
    result = run_manage(tmp_path, "serve", "127.0.0.1:0", "--no-workers", QDRANT_PATH=str(tmp_path / "qdrant"),
                        QDRANT_INDEX_ON_START="false", RAGBASE_ADMIN_PASSWORD="pw-for-this-test")
    assert result.returncode == 1
    # The system check's warning (chunks.W002) first, then serve's own line instead of a traceback.
    last = result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr, result.stderr
    assert last.startswith("ragbase: error:") and "another-model" in last and "manage.py reindex" in last


def test_gunicorn_on_its_own_in_embedded_mode_stops_in_one_line(tmp_path):
    """Without QDRANT_URL only `serve` may start the web server: it owns the store."""
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "QDRANT_URL")}
    env["RAGBASE_VAR_DIR"], env["TMPDIR"] = str(tmp_path), str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    result = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "ragbase/gunicorn_config.py", "--bind", "127.0.0.1:0"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("ragbase: error: without QDRANT_URL"), result.stderr
    assert not list((tmp_path / "tmp").glob("ragbase-*"))  # its metrics folder went with it
