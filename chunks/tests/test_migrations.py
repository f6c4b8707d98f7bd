"""Schema migrations that move data keep PENDING chunks' vectors."""
import array

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_PACKING = [("chunks", "0003_chunk_status_partial_indexes")]
PACKED = [("chunks", "0004_packed_staged_vectors")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrator():
    """Migrates to the targets given; puts the schema back at the latest migrations afterwards."""
    yield _migrate
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_packing_staged_vectors_keeps_pending_chunks_vectors_both_ways(migrator):
    apps = migrator(BEFORE_PACKING)
    user = apps.get_model("auth", "User").objects.create(username="migrating")
    document = apps.get_model("chunks", "Document").objects.create(owner_id=user.pk, source="upload", source_id="m", title="m")
    Chunk = apps.get_model("chunks", "Chunk")
    pending = Chunk.objects.create(document_id=document.pk, owner_id=user.pk, ordinal=0, text="waiting",
                                   dense_vector=[0.1, 0.2, 0.3], sparse_indices=[5, 4_000_000_000], sparse_values=[0.5, 1.25])
    synced = Chunk.objects.create(document_id=document.pk, owner_id=user.pk, ordinal=1, text="pushed", sync_status="SYNCED")

    Chunk = migrator(PACKED).get_model("chunks", "Chunk")
    moved = Chunk.objects.get(pk=pending.pk)
    assert moved.dense_vector == array.array("f", [0.1, 0.2, 0.3]).tolist()
    assert (moved.sparse_indices, moved.sparse_values) == ([5, 4_000_000_000], [0.5, 1.25])
    assert Chunk.objects.get(pk=synced.pk).dense_vector is None

    Chunk = migrator(BEFORE_PACKING).get_model("chunks", "Chunk")
    back = Chunk.objects.get(pk=pending.pk)
    assert back.dense_vector == pytest.approx([0.1, 0.2, 0.3], rel=1e-6)
    assert back.sparse_indices == [5, 4_000_000_000]
