"""Export / import of the vector store and the move to another store (chunks.backup), on both
backends: nothing is embedded again, and a bad file writes nothing."""
import uuid
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chunks.backup.fileformat import BadVectorFile, Header, VectorFileWriter
from chunks.backup.transfer import VectorFileMismatch, export_vectors, import_vectors
from chunks.models import Chunk, SyncStatus
from chunks.outbox.drain import drain
from chunks.services.index_check import check_index
from chunks.tests.outbox.faulty_index import WrappedIndex
from chunks.vector_index import Fusion, QueryFilter, SearchMode, VectorPoint, VectorStoreUnavailable
from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from chunks.vector_index.qdrant_server import ServerVectorIndex
from ragbase.testing import (
    TEST_DENSE_DIM,
    TEST_MODEL_ID,
    ensured,
    installed_index,
    make_chunks,
    run_manage,
    stored_points,
    synced_chunks,
)

pytestmark = pytest.mark.reliability  # README promise 11

SPEC = {"dense_dim": TEST_DENSE_DIM, "model_id": TEST_MODEL_ID}


def top10(index, owner_id):
    probes = [([1.0] + [0.1] * (TEST_DENSE_DIM - 1), [k * 1000 + 5 for k in range(3)]) for _ in range(1)]
    probes += [([(i * 7 + j) % 5 / 5 + 0.05 for j in range(TEST_DENSE_DIM)], [i * 37 % 1000]) for i in range(6)]
    return [[h.id for h in index.query(query_filter=QueryFilter(owner_id=owner_id), dense=dense, sparse_indices=sparse,
                                       sparse_values=[1.0] * len(sparse), mode=mode, limit=10, prefetch_limit=50,
                                       fusion=Fusion.parse("rrf:60"))]
            for dense, sparse in probes for mode in SearchMode]


@pytest.fixture
def synced(vector_index_backend):
    return synced_chunks(vector_index_backend, 60, documents=3)


@pytest.mark.django_db
def test_export_wipe_import_gives_the_same_points_vectors_payloads_and_top10(synced, tmp_path):
    index, owner_id = synced, Chunk.objects.first().owner_id
    before, answers = stored_points(index), top10(index, owner_id)
    path = tmp_path / "vectors.rbv"
    assert export_vectors(index=index, path=path, page_size=7).points == 60
    index.drop_collection()  # the store is lost; Postgres keeps no vectors of SYNCED chunks
    assert import_vectors(index=index, path=path, expected=SPEC).points == 60
    after = stored_points(index)
    assert after.keys() == before.keys() == {str(q) for q in Chunk.objects.values_list("qdrant_id", flat=True)}
    for point_id, point in before.items():
        again = after[point_id]
        assert again.payload == point.payload
        assert list(again.sparse_indices) == list(point.sparse_indices)
        assert list(again.sparse_values) == pytest.approx(list(point.sparse_values))
        assert list(again.dense) == pytest.approx(list(point.dense), abs=1e-3)  # float16 rounding at most
    assert top10(index, owner_id) == answers
    import_vectors(index=index, path=path, expected=SPEC)  # twice: nothing changes
    assert stored_points(index).keys() == before.keys() and index.count() == 60
    assert Chunk.objects.filter(sync_status=SyncStatus.SYNCED).count() == 60
    report = check_index(index=index)
    assert report.ok and report.points == 60 and report.synced == 60


@pytest.mark.django_db
def test_import_refuses_a_file_of_another_model_or_dimension(synced, tmp_path):
    path = tmp_path / "vectors.rbv"
    export_vectors(index=synced, path=path)
    with pytest.raises(VectorFileMismatch, match="another-model"):
        import_vectors(index=synced, path=path, expected={**SPEC, "model_id": "another-model"})
    synced.drop_collection()
    with pytest.raises(VectorFileMismatch, match=f"{TEST_DENSE_DIM}-d vectors of 'test-model', but this installation "
                                                 f"embeds with {TEST_DENSE_DIM + 1}-d"):
        import_vectors(index=synced, path=path, expected={**SPEC, "dense_dim": TEST_DENSE_DIM + 1})
    assert synced.recorded_spec() is None  # not even the collection was created
    synced.ensure_collection(dense_dim=TEST_DENSE_DIM, model_id="another-model")  # a collection of other vectors
    with pytest.raises(VectorFileMismatch, match="collection 'test' holds"):
        import_vectors(index=synced, path=path, expected=SPEC)
    assert synced.count() == 0


def damaged_copies(data: bytes):
    middle = len(data) // 2
    yield "cut in the middle", data[:middle]
    yield "trailer missing", data[:-40]
    yield "last byte missing", data[:-1]
    yield "a vector byte flipped", data[:middle] + bytes([data[middle] ^ 0x01]) + data[middle + 1:]
    yield "checksum flipped", data[:-1] + bytes([data[-1] ^ 0x80])
    yield "bytes appended", data + b"\0"
    yield "not a vector file", b"PK\x03\x04" + data[4:]


@pytest.mark.django_db
def test_a_truncated_or_corrupted_file_is_refused_with_a_clear_error_and_nothing_written(synced, tmp_path):
    path = tmp_path / "vectors.rbv"
    export_vectors(index=synced, path=path)
    data = path.read_bytes()
    synced.drop_collection()
    synced.ensure_collection(**SPEC)  # an empty collection, as after a lost store
    bad = tmp_path / "bad.rbv"
    for what, damaged in damaged_copies(data):
        bad.write_bytes(damaged)
        with pytest.raises(BadVectorFile):
            import_vectors(index=synced, path=bad, expected=SPEC)
        assert synced.count() == 0, what
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(CommandError, match="truncated.*nothing was written"):
        call_command("import_vectors", str(bad), stdout=StringIO(), stderr=StringIO())
    assert synced.count() == 0


@pytest.mark.django_db
def test_the_commands_export_and_import_and_check_the_ids_against_postgres(synced, tmp_path):
    path = tmp_path / "vectors.rbv"
    out = StringIO()
    call_command("export_vectors", str(path), stdout=out, stderr=StringIO())
    assert "exported 60 points" in out.getvalue() and "bytes/point" in out.getvalue()
    synced.drop_collection()
    synced.ensure_collection(**SPEC)
    out = StringIO()
    call_command("import_vectors", str(path), stdout=out, stderr=StringIO())
    assert "imported 60 points" in out.getvalue()
    assert "holds exactly the 60 chunks Postgres marks SYNCED" in out.getvalue()
    # A chunk SYNCED after the export has no point in the file: the import says so.
    Chunk.objects.filter(pk=Chunk.objects.first().pk).update(qdrant_id=uuid.uuid4())
    with pytest.raises(CommandError, match="1 SYNCED chunks have no point, 1 points have no chunk"):
        call_command("import_vectors", str(path), stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_move_copies_the_embedded_store_into_a_server_collection_and_verifies_ids(vector_index, tmp_path, monkeypatch):
    ensured(vector_index)
    make_chunks(40, documents=2)
    drain(index=vector_index)
    server_folder = tmp_path / "server"

    def local_mode_server(**kwargs):  # qdrant-client's local mode stands in for the server
        assert kwargs["url"] == "http://qdrant.test:6333"
        return ServerVectorIndex(path=server_folder, collection=kwargs["collection"])

    monkeypatch.setattr("chunks.management.commands.move_vectors.build_vector_index", local_mode_server)
    out = StringIO()
    call_command("move_vectors", "--url", "http://qdrant.test:6333", "--collection", "moved", stdout=out,
                 stderr=StringIO())
    assert "copied 40 points" in out.getvalue()
    assert "the target holds exactly the 40 chunks Postgres marks SYNCED" in out.getvalue()
    assert "set QDRANT_URL=http://qdrant.test:6333" in out.getvalue()
    server = ServerVectorIndex(path=server_folder, collection="moved")
    try:
        assert stored_points(server).keys() == stored_points(vector_index).keys() == {
            str(q) for q in Chunk.objects.values_list("qdrant_id", flat=True)}
        assert server.recorded_spec() == SPEC
    finally:
        server.close()
    # The embedded store lost a point: the move copies what there is and says what is missing.
    vector_index.delete([str(Chunk.objects.first().qdrant_id)])
    with pytest.raises(CommandError, match="the target differs from Postgres: 1 SYNCED chunks have no point"):
        call_command("move_vectors", "--url", "http://qdrant.test:6333", "--collection", "moved-again",
                     stdout=StringIO(), stderr=StringIO())


@pytest.mark.django_db
def test_an_interrupted_import_is_run_again_and_completes(synced, tmp_path):
    class DiesOnTheSecondBlock(WrappedIndex):
        def before_upsert(self, points):
            if sum(self.upserted.values()):
                raise VectorStoreUnavailable("connection reset (the import was killed)")

    path = tmp_path / "vectors.rbv"
    before = stored_points(synced)
    export_vectors(index=synced, path=path, page_size=25)
    synced.drop_collection()
    synced.ensure_collection(**SPEC)
    with pytest.raises(VectorStoreUnavailable):
        import_vectors(index=DiesOnTheSecondBlock(synced), path=path, expected=SPEC)
    assert 0 < synced.count() < 60  # part of it landed
    import_vectors(index=synced, path=path, expected=SPEC)
    assert stored_points(synced).keys() == before.keys() and check_index(index=synced).ok


@pytest.mark.django_db
def test_move_back_copies_a_server_collection_into_an_embedded_folder(tmp_path):
    with installed_index(ServerVectorIndex(path=tmp_path / "server", collection="test")) as server:
        synced_chunks(server, 20, documents=2)
        out = StringIO()
        call_command("move_vectors", "--path", str(tmp_path / "embedded"), stdout=out, stderr=StringIO())
        assert "the target holds exactly the 20 chunks" in out.getvalue()
        assert f"QDRANT_PATH={tmp_path / 'embedded'}" in out.getvalue()
        expected = stored_points(server)
    embedded = EdgeVectorIndex(path=tmp_path / "embedded", collection="ragbase_hybrid")
    try:
        assert stored_points(embedded).keys() == expected.keys()
    finally:
        embedded.close()


@pytest.mark.parametrize("command", [["export_vectors", "out.rbv"], ["import_vectors", "in.rbv"], ["check_index"],
                                     ["move_vectors", "--url", "http://qdrant.test:6333"], ["reindex", "--yes"]])
@pytest.mark.django_db
def test_in_embedded_mode_the_commands_say_in_one_line_that_serve_owns_the_store(command, tmp_path, settings):
    settings.QDRANT_URL, settings.QDRANT_PATH = "", tmp_path / "qdrant"
    owner = EdgeVectorIndex(path=settings.QDRANT_PATH, collection="test")  # what `serve` holds
    try:
        with installed_index(None), pytest.raises(CommandError, match="is owned by process .*; stop it"):
            call_command(*command, stdout=StringIO(), stderr=StringIO())
    finally:
        owner.close()


@pytest.mark.django_db
def test_import_into_a_store_without_a_collection_creates_it_for_the_embedders_vectors(vector_index, embedder, tmp_path):
    make_chunks(3, dim=embedder.dense_dim)
    Chunk.objects.update(sync_status=SyncStatus.SYNCED, dense_vector=None, sparse_indices=None, sparse_values=None)
    path = tmp_path / "vectors.rbv"

    def write(model_id):
        with open(path, "wb") as stream:
            writer = VectorFileWriter(stream, Header(collection="c", model_id=model_id, dense_dim=embedder.dense_dim,
                                                     points=3))
            writer.write([VectorPoint(id=str(c.qdrant_id), dense=[0.1] * embedder.dense_dim, sparse_indices=[1],
                                      sparse_values=[1.0],
                                      payload={"owner_id": str(c.owner_id), "document_id": c.document_id})
                          for c in Chunk.objects.all()])
            writer.finish()

    write("dense=some/other-model;sparse=Qdrant/bm25")
    with pytest.raises(CommandError, match="this installation embeds with .*nothing was written"):
        call_command("import_vectors", str(path), stdout=StringIO(), stderr=StringIO())
    assert vector_index.recorded_spec() is None
    write(embedder.model_id)
    out = StringIO()
    call_command("import_vectors", str(path), stdout=out, stderr=StringIO())
    assert "holds exactly the 3 chunks" in out.getvalue()
    assert vector_index.recorded_spec() == {"dense_dim": embedder.dense_dim, "model_id": embedder.model_id}


def test_export_beside_a_running_owner_is_refused_in_one_line_from_another_process(tmp_path):
    owner = EdgeVectorIndex(path=tmp_path / "qdrant", collection="c")  # as `serve` holds it
    try:
        result = run_manage(tmp_path, "export_vectors", str(tmp_path / "out.rbv"), QDRANT_PATH=str(tmp_path / "qdrant"))
    finally:
        owner.close()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "is owned by process" in lines[0], result.stderr
    assert not (tmp_path / "out.rbv").exists()
