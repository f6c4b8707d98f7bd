"""Embedded backend: the Qdrant engine in-process (qdrant-edge), one shard in QDRANT_PATH/<collection>.

Only one process may own the folder. An exclusive fcntl lock (QDRANT_PATH/.owner.lock, holding the
owner's pid and command) is taken before the shard is opened, so a second process fails at once
with a message naming the owner instead of hanging on the engine's own WAL lock.
The dense dimension and model id are recorded in QDRANT_PATH/<collection>.json beside the shard.
"""
import fcntl
import json
import os
import shutil
import sys
from pathlib import Path

import qdrant_edge as edge

from chunks.vector_index.base import (
    CollectionMismatch,
    Fusion,
    FusionMethod,
    IndexHealth,
    QueryFilter,
    ScoredId,
    SearchMode,
    VectorIndex,
    VectorPoint,
    VectorStoreUnavailable,
    fuse_legs,
    single_leg_ranks,
)
from chunks.vector_index.payload import (
    DENSE_DATATYPE,
    HIT_PAYLOAD,
    PAYLOAD_INDEXES,
    embedded_spec_path,
    filter_conditions,
    read_embedded_spec,
    recorded_spec_problem,
    stored_point,
)


class EmbeddedStoreLocked(VectorStoreUnavailable):
    """Another process owns the embedded vector store folder."""


def _acquire_owner_lock(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / ".owner.lock"
    handle = open(lock_path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "unknown"
        handle.close()
        raise EmbeddedStoreLocked(
            f"the embedded vector store in {folder} is owned by process {owner}; "
            "stop it, or set QDRANT_URL to use a Qdrant server"
        ) from None
    handle.seek(0)
    handle.truncate()
    command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:2]))
    handle.write(f"{os.getpid()} ({command})")
    handle.flush()
    return handle


_DATATYPES = {"float32": edge.VectorStorageDatatype.Float32, "float16": edge.VectorStorageDatatype.Float16}
_SCHEMAS = {
    "keyword": edge.PayloadSchemaType.Keyword,
    "tenant": edge.KeywordIndexParams(is_tenant=True),
    "integer": edge.PayloadSchemaType.Integer,
    "float": edge.PayloadSchemaType.Float,
}


class EdgeVectorIndex(VectorIndex):
    backend_name = "embedded (qdrant-edge)"

    def __init__(self, *, path, collection: str):
        self.folder = Path(path)
        self.collection = collection
        self.shard_path = self.folder / collection
        self.spec_path = embedded_spec_path(self.folder, collection)
        self._lock = _acquire_owner_lock(self.folder)
        self._shard = None

    # --- lifecycle -------------------------------------------------------------------------
    def _config(self, dense_dim: int):
        return edge.EdgeConfig(
            vectors={
                "dense": edge.EdgeVectorParams(
                    size=dense_dim, distance=edge.Distance.Cosine, datatype=_DATATYPES[DENSE_DATATYPE]
                )
            },
            sparse_vectors={"sparse": edge.EdgeSparseVectorParams(modifier=edge.Modifier.Idf)},
        )

    def recorded_spec(self):
        return read_embedded_spec(self.folder, self.collection)

    def ensure_collection(self, *, dense_dim: int, model_id: str) -> None:
        recorded = self.recorded_spec()
        if recorded is not None:
            problem = recorded_spec_problem(recorded, dense_dim=dense_dim, model_id=model_id)
            if problem:
                raise CollectionMismatch(f"collection {self.collection!r} in {self.folder}: {problem}")
            self._open()
            self.ready = True
            return
        try:
            self._shard = edge.EdgeShard.create(str(self.shard_path), self._config(dense_dim))
            for field, kind in PAYLOAD_INDEXES.items():
                self._shard.update(edge.UpdateOperation.create_field_index(field, _SCHEMAS[kind]))
        except Exception as exc:  # the engine raises plain exceptions
            raise VectorStoreUnavailable(f"cannot create the embedded collection: {exc}") from exc
        self.spec_path.write_text(json.dumps({"dense_dim": dense_dim, "model_id": model_id}))
        self.ready = True

    def drop_collection(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None
        self.ready = False
        shutil.rmtree(self.shard_path, ignore_errors=True)
        self.spec_path.unlink(missing_ok=True)

    def _open(self):
        if self._shard is None:
            if self.recorded_spec() is None:
                raise VectorStoreUnavailable(
                    f"collection {self.collection!r} does not exist yet in {self.folder}"
                )
            try:
                self._shard = edge.EdgeShard.load(str(self.shard_path))
            except Exception as exc:
                raise VectorStoreUnavailable(f"cannot open the embedded collection: {exc}") from exc
        return self._shard

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _call(self, what, fn):
        shard = self._open()
        try:
            return fn(shard)
        except Exception as exc:
            raise VectorStoreUnavailable(f"embedded vector store failed to {what}: {exc}") from exc

    # --- writes ------------------------------------------------------------------------------
    def upsert(self, points: list[VectorPoint]) -> None:
        if not points:
            return
        # Chunks of one document share their payload. Converting a payload dict is the engine
        # binding's slowest step (~40 µs a point), so points go in bare and each distinct payload
        # is set once for its ids. Between the two updates a point has no owner_id, so no
        # (always owner-filtered) search can return it.
        edge_points, ids_by_payload = [], {}
        for p in points:
            sparse = edge.SparseVector(p.sparse_indices, p.sparse_values)
            edge_points.append(edge.Point(p.id, {"dense": p.dense, "sparse": sparse}))
            ids_by_payload.setdefault(tuple(p.payload.items()), []).append(p.id)
        operations = [edge.UpdateOperation.upsert_points(edge_points)] + [
            edge.UpdateOperation.set_payload(ids, dict(payload)) for payload, ids in ids_by_payload.items()
        ]

        # Updates go through the engine's WAL before update() returns: durable and searchable.
        def apply(shard):
            for operation in operations:
                shard.update(operation)

        self._call("upsert", apply)

    def delete(self, ids: list[str]) -> None:
        if ids:
            self._call("delete", lambda s: s.update(edge.UpdateOperation.delete_points(list(ids))))

    # --- reads -------------------------------------------------------------------------------
    def _filter(self, query_filter: QueryFilter | None):
        if query_filter is None:
            return None
        return edge.Filter(must=filter_conditions(query_filter, _EdgeConditions))

    def query(self, *, query_filter, dense, sparse_indices, sparse_values, mode, limit, prefetch_limit, fusion,
              leg_ranks=False):
        flt = self._filter(query_filter)
        dense_query = edge.Query.Nearest(list(dense), using="dense") if dense is not None else None
        sparse_query = (
            edge.Query.Nearest(edge.SparseVector(list(sparse_indices), list(sparse_values)), using="sparse")
            if sparse_indices is not None
            else None
        )
        if mode != SearchMode.HYBRID:
            leg = dense_query if mode == SearchMode.DENSE else sparse_query
            hits = _scored(self._call("query", lambda s: s.query(
                edge.QueryRequest(limit=limit, query=leg, filter=flt, with_payload=HIT_PAYLOAD))))
            return single_leg_ranks(hits, mode) if leg_ranks else hits
        if leg_ranks:
            legs = [edge.QueryRequest(limit=prefetch_limit, query=q, filter=flt, with_payload=HIT_PAYLOAD)
                    for q in (dense_query, sparse_query)]
            dense_hits, sparse_hits = self._call("query", lambda s: s.query_batch(edge.QueryBatchRequest(legs)))
            return fuse_legs(_leg_hits(dense_hits), _leg_hits(sparse_hits), fusion=fusion, limit=limit)
        fused = edge.QueryRequest(
            limit=limit,
            prefetches=[
                edge.Prefetch(limit=prefetch_limit, query=dense_query, filter=flt),
                edge.Prefetch(limit=prefetch_limit, query=sparse_query, filter=flt),
            ],
            query=_edge_fusion(fusion),
            filter=flt,
            with_payload=HIT_PAYLOAD,
        )
        return _scored(self._call("query", lambda s: s.query(fused)))

    def count(self, query_filter: QueryFilter | None = None) -> int:
        request = edge.CountRequest(exact=True, filter=self._filter(query_filter))
        return self._call("count", lambda s: s.count(request))

    def scroll(self, *, offset=None, limit, with_vectors=True):
        request = edge.ScrollRequest(offset=offset, limit=limit, with_payload=True, with_vector=with_vectors)
        records, next_offset = self._call("scroll", lambda s: s.scroll(request))
        return [stored_point(r.id, r.payload, r.vector if with_vectors else None) for r in records], None if next_offset is None else str(next_offset)

    def existing_ids(self, ids):
        if not ids:
            return set()
        records = self._call("retrieve", lambda s: s.retrieve(list(ids), with_payload=False, with_vector=False))
        return {str(r.id) for r in records}

    def set_payload(self, ids, payload):
        # The engine refuses the whole operation if one id is not a point.
        present = list(self.existing_ids(ids))
        if present:
            self._call("set the payload", lambda s: s.update(edge.UpdateOperation.overwrite_payload(present, payload)))

    def optimize(self) -> str:
        # Holds the GIL for the whole run (16.8 s at 20k points here), so it runs only where nobody
        # waits: `serve` at start, before it listens, or `manage.py optimize_index` (serve stopped).
        before = self._call("inspect", lambda s: s.info())
        self._call("optimize", lambda s: s.optimize())
        after = self._call("inspect", lambda s: s.info())
        return (
            f"{after.points_count} points: segments {before.segments_count} -> {after.segments_count}, "
            f"indexed vectors {before.indexed_vectors_count} -> {after.indexed_vectors_count}"
        )

    def health(self) -> IndexHealth:
        try:
            points = self._open().info().points_count
        except Exception as exc:
            return IndexHealth(ok=False, backend=self.backend_name, detail=str(exc))
        return IndexHealth(ok=True, backend=self.backend_name, detail=str(self.shard_path), points=points)


def _edge_fusion(fusion: Fusion):
    if fusion.method == FusionMethod.DBSF:
        return edge.Fusion.Dbsf()
    return edge.Fusion.Rrf(k=fusion.k, weights=list(fusion.weights) if fusion.weights else None)


def _scored(hits) -> list[ScoredId]:
    return [ScoredId(id=str(h.id), score=h.score, document_id=h.payload.get("document_id")) for h in hits]


def _leg_hits(hits):
    # The ids stay UUIDs (str() on each took 0.13 ms a leg of 100): fuse_legs converts the kept ones.
    return [(h.id, h.score, h.payload.get("document_id")) for h in hits]


class _EdgeConditions:
    """How payload conditions are spelled in qdrant-edge (see payload.filter_conditions)."""

    @staticmethod
    def match(key, value):
        return edge.FieldCondition(key, match=edge.MatchValue(value))

    @staticmethod
    def match_any(key, values):
        return edge.FieldCondition(key, match=edge.MatchAny(list(values)))

    @staticmethod
    def greater_than(key, value):
        return edge.FieldCondition(key, range=edge.RangeFloat(gt=value))
