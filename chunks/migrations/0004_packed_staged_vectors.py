"""Staged vectors move from float8[] columns to packed float32/uint32 bytea (chunks/fields.py).
PENDING rows keep their vectors: they are converted in batches, in both directions."""
from django.db import migrations

import chunks.fields

VECTOR_FIELDS = {"dense_vector": "f", "sparse_indices": "I", "sparse_values": "f"}
BATCH = 1000


def _copy_vectors(apps, *, source_suffix, target_suffix):
    Chunk = apps.get_model("chunks", "Chunk")
    sources = [f"{name}{source_suffix}" for name in VECTOR_FIELDS]
    targets = [f"{name}{target_suffix}" for name in VECTOR_FIELDS]
    staged = Chunk.objects.filter(**{f"{sources[0]}__isnull": False}).only("id", *sources)
    batch = []
    for chunk in staged.iterator(chunk_size=BATCH):
        for source, target in zip(sources, targets):
            setattr(chunk, target, getattr(chunk, source))
        batch.append(chunk)
        if len(batch) == BATCH:
            Chunk.objects.bulk_update(batch, targets)
            batch = []
    Chunk.objects.bulk_update(batch, targets)


def pack(apps, schema_editor):
    _copy_vectors(apps, source_suffix="_float8", target_suffix="")


def unpack(apps, schema_editor):
    _copy_vectors(apps, source_suffix="", target_suffix="_float8")


class Migration(migrations.Migration):

    dependencies = [
        ("chunks", "0003_chunk_status_partial_indexes"),
    ]

    operations = [
        *[
            migrations.RenameField(model_name="chunk", old_name=name, new_name=f"{name}_float8")
            for name in VECTOR_FIELDS
        ],
        *[
            migrations.AddField(
                model_name="chunk",
                name=name,
                field=chunks.fields.PackedArrayField(blank=True, null=True, typecode=typecode),
            )
            for name, typecode in VECTOR_FIELDS.items()
        ],
        migrations.RunPython(pack, unpack),
        *[migrations.RemoveField(model_name="chunk", name=f"{name}_float8") for name in VECTOR_FIELDS],
    ]
