"""The vector store's and the outbox's configuration mistakes as Django system checks
(`manage.py check`). Their ids keep the ragbase. prefix they were published with
(SILENCED_SYSTEM_CHECKS may name them)."""
import os

from django.conf import settings
from django.core.checks import Error, Warning, register

from chunks.embedding import configured_model_id
from chunks.embedding.identity import is_bm25
from chunks.vector_index.payload import read_embedded_spec


@register()
def check_vector_store_settings(app_configs, **kwargs):
    problems = []
    if settings.VECTOR_DB_PROVIDER != "qdrant":
        problems.append(
            Error(
                f"VECTOR_DB_PROVIDER={settings.VECTOR_DB_PROVIDER!r} is not supported.",
                hint="Use 'qdrant' (the only provider).",
                id="ragbase.E002",
            )
        )
    if settings.QDRANT_URL and not settings.QDRANT_URL.startswith(("http://", "https://")):
        problems.append(
            Error(
                f"QDRANT_URL={settings.QDRANT_URL!r} is not an http(s) URL.",
                hint="For example http://qdrant:6333; leave it unset for the embedded engine.",
                id="ragbase.E003",
            )
        )
    if settings.QDRANT_API_KEY and settings.QDRANT_URL.startswith("http://") and not settings.DEBUG:
        problems.append(
            Warning(
                "QDRANT_API_KEY is sent over plain http.",
                hint="Use https for a Qdrant server outside a private network.",
                id="ragbase.W001",
            )
        )
    return problems


@register()
def check_outbox_settings(app_configs, **kwargs):
    problems = []
    for name in ("OUTBOX_BATCH_SIZE", "OUTBOX_DRAIN_THREADS", "OUTBOX_MAX_ATTEMPTS"):
        value = getattr(settings, name)
        if value < 1:
            problems.append(
                Error(f"{name}={value} must be at least 1.", hint="See .env.example for the defaults.", id="ragbase.E012")
            )
    return problems


@register()
def check_sparse_model_settings(app_configs, **kwargs):
    problems = []
    for name, valid, rule in (("SPARSE_BM25_K1", lambda v: v >= 0, "at least 0"),
                              ("SPARSE_BM25_B", lambda v: 0 <= v <= 1, "between 0 and 1"),
                              ("SPARSE_BM25_AVG_LEN", lambda v: v > 0, "more than 0")):
        value = getattr(settings, name)
        if not valid(value):
            problems.append(Error(f"{name}={value:g} must be {rule}.",
                                  hint="See .env.example for the defaults.", id="chunks.E001"))
    if not is_bm25(settings.SPARSE_MODEL):
        ignored = [name for name in ("SPARSE_BM25_K1", "SPARSE_BM25_B", "SPARSE_BM25_AVG_LEN") if name in os.environ]
        if ignored:
            problems.append(Warning(f"{', '.join(ignored)} set, but SPARSE_MODEL={settings.SPARSE_MODEL!r} is not BM25.",
                                    hint="They are read only for SPARSE_MODEL=Qdrant/bm25.", id="chunks.W001"))
    return problems


@register()
def check_collection_model(app_configs, **kwargs):
    """The embedded collection's recorded vectors against the ones the settings make (read from the
    file beside the shard, without opening the store; a server's collection is checked when it is
    first used: search, the drain and `serve` refuse a mismatch)."""
    if settings.QDRANT_URL:
        return []
    try:
        recorded = read_embedded_spec(settings.QDRANT_PATH, settings.QDRANT_COLLECTION)
    except (OSError, ValueError):
        return []
    expected = configured_model_id()
    if recorded is None or recorded.get("model_id") == expected:
        return []
    return [Warning(
        f"The collection {settings.QDRANT_COLLECTION!r} holds vectors of model_id={recorded.get('model_id')!r}, "
        f"but the settings make {expected!r} (DENSE_MODEL, SPARSE_MODEL, SPARSE_BM25_*): search, the outbox and "
        "serve refuse to mix them.",
        hint="Run `manage.py reindex` to embed every chunk again with the settings, or set them back "
        "(docs/deploy.md, Changing the embedding models).", id="chunks.W002")]
