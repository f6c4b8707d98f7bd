"""`manage.py serve` fails at start, in one line, when it cannot have the vector store."""
from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from ragbase.tests.test_startup_errors import run_manage


def test_unreachable_qdrant_url_is_one_clear_line(tmp_path):
    result = run_manage(tmp_path, "serve", "127.0.0.1:0", "--no-workers", QDRANT_URL="http://127.0.0.1:9")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot reach the Qdrant server" in lines[0] and "QDRANT_URL" in lines[0]


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
