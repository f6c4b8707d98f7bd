"""PackedArrayField: staged vectors as packed 32-bit bytea on real Postgres."""
import array

import pytest
from django.core import serializers
from django.db import connection

from chunks.models import Chunk
from ragbase.testing import make_chunks

pytestmark = pytest.mark.django_db


def _reload(chunk):
    return Chunk.objects.get(pk=chunk.pk)


def test_vectors_round_trip_at_float32_precision_and_null_stays_none():
    (doc,) = make_chunks(1)
    chunk = doc.chunks.get()
    chunk.dense_vector = [0.1, -2.5, 3.0e-8, 1.0e30]
    chunk.sparse_indices = [0, 7, 2**32 - 1]
    chunk.sparse_values = [0.25, 1.5, 3.75]
    chunk.save()
    stored = _reload(chunk)
    assert stored.dense_vector == array.array("f", [0.1, -2.5, 3.0e-8, 1.0e30]).tolist()
    assert stored.dense_vector[1] == -2.5
    assert stored.sparse_indices == [0, 7, 2**32 - 1]
    assert stored.sparse_values == [0.25, 1.5, 3.75]
    Chunk.objects.filter(pk=chunk.pk).update(dense_vector=None)
    assert _reload(chunk).dense_vector is None


def test_columns_hold_four_big_endian_bytes_a_value_as_postgres_writes_them():
    (doc,) = make_chunks(1)
    chunk = doc.chunks.get()
    chunk.dense_vector, chunk.sparse_indices, chunk.sparse_values = [1.5, -0.5], [3, 70000], [0.5, 2.0]
    chunk.save()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT dense_vector = float4send(1.5) || float4send(-0.5),
                      sparse_indices = int4send(3) || int4send(70000),
                      length(sparse_values)
                 FROM chunks_chunk WHERE id = %s""",
            [chunk.pk],
        )
        assert cursor.fetchone() == (True, True, 8)


@pytest.mark.parametrize(
    "field, value, problem",
    [("sparse_indices", [1, -4], "uint32"), ("sparse_indices", [2**32], "uint32"), ("dense_vector", ["x"], "float32")],
)
def test_values_that_do_not_fit_are_refused_with_the_field_named(field, value, problem):
    (doc,) = make_chunks(1)
    chunk = doc.chunks.get()
    setattr(chunk, field, value)
    with pytest.raises(ValueError, match=f"{field}: expected a list of {problem} values"):
        chunk.save()


def test_dumpdata_and_loaddata_keep_the_vectors():
    (doc,) = make_chunks(2)
    chunks = list(doc.chunks.order_by("pk"))
    payload = serializers.serialize("json", chunks)
    Chunk.objects.filter(pk__in=[c.pk for c in chunks]).update(dense_vector=None, sparse_indices=None)
    for restored in serializers.deserialize("json", payload):
        restored.save()
    for original in chunks:
        stored = _reload(original)
        assert stored.dense_vector == original.dense_vector == array.array("f", original.dense_vector).tolist()
        assert stored.sparse_indices == original.sparse_indices
