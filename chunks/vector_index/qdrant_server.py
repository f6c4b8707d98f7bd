"""Server backend: qdrant-client against QDRANT_URL (production, clusters). Constructed with
`location=":memory:"` or `path=...` it runs qdrant-client's local mode, the server's stand-in
in tests. The dense dimension and model id are stored in the collection's metadata."""
import warnings

from qdrant_client import QdrantClient
from qdrant_client import models as qm

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
    filter_conditions,
    recorded_spec_problem,
    stored_point,
)

_SCHEMAS = {
    "tenant": qm.KeywordIndexParams(type=qm.KeywordIndexType.KEYWORD, is_tenant=True),
    "keyword": qm.PayloadSchemaType.KEYWORD,
    "integer": qm.PayloadSchemaType.INTEGER,
    "float": qm.PayloadSchemaType.FLOAT,
}


class ServerVectorIndex(VectorIndex):
    backend_name = "server (qdrant-client)"

    def __init__(self, *, collection: str, url=None, api_key=None, timeout=10.0, location=None, path=None):
        self.collection = collection
        self.where = url or path or location
        if url:
            self.client = QdrantClient(url=url, api_key=api_key or None, timeout=int(max(1, timeout)))
        elif path:
            self.client = QdrantClient(path=str(path))
        else:
            self.client = QdrantClient(location=location or ":memory:")

    def _call(self, what, fn):
        try:
            return fn()
        except (CollectionMismatch, VectorStoreUnavailable):
            raise
        except Exception as exc:  # connection refused, timeouts, HTTP 5xx, unexpected responses
            raise VectorStoreUnavailable(f"Qdrant at {self.where} failed to {what}: {exc}") from exc

    def _recorded(self):
        if not self.client.collection_exists(self.collection):
            return None
        info = self.client.get_collection(self.collection)
        recorded = dict(info.config.metadata or {})
        vectors = info.config.params.vectors
        if isinstance(vectors, dict) and "dense" in vectors:
            recorded.setdefault("dense_dim", vectors["dense"].size)
        return recorded

    def recorded_spec(self):
        return self._call("read the collection", self._recorded)

    def ensure_collection(self, *, dense_dim: int, model_id: str) -> None:
        def ensure():
            recorded = self._recorded()
            if recorded is not None:
                problem = recorded_spec_problem(recorded, dense_dim=dense_dim, model_id=model_id)
                if problem:
                    raise CollectionMismatch(f"collection {self.collection!r} at {self.where}: {problem}")
                return
            self.client.create_collection(
                self.collection,
                vectors_config={
                    "dense": qm.VectorParams(
                        size=dense_dim, distance=qm.Distance.COSINE, datatype=qm.Datatype(DENSE_DATATYPE)
                    )
                },
                sparse_vectors_config={"sparse": qm.SparseVectorParams(modifier=qm.Modifier.IDF)},
                metadata={"dense_dim": dense_dim, "model_id": model_id},
            )
            with warnings.catch_warnings():
                # Local mode (the tests' server stand-in) warns that it ignores payload indexes.
                warnings.filterwarnings("ignore", message="Payload indexes have no effect")
                for field, kind in PAYLOAD_INDEXES.items():
                    self.client.create_payload_index(self.collection, field, _SCHEMAS[kind], wait=True)

        self._call("ensure the collection", ensure)
        self.ready = True

    def drop_collection(self) -> None:
        self.ready = False
        self._call("drop the collection", lambda: self.client.delete_collection(self.collection))

    def upsert(self, points: list[VectorPoint]) -> None:
        if not points:
            return
        structs = [
            qm.PointStruct(
                id=p.id,
                vector={
                    "dense": list(p.dense),
                    "sparse": qm.SparseVector(indices=list(p.sparse_indices), values=list(p.sparse_values)),
                },
                payload=p.payload,
            )
            for p in points
        ]
        self._call("upsert", lambda: self.client.upsert(self.collection, points=structs, wait=True))

    def delete(self, ids: list[str]) -> None:
        if ids:
            selector = qm.PointIdsList(points=list(ids))
            self._call("delete", lambda: self.client.delete(self.collection, points_selector=selector, wait=True))

    def _filter(self, query_filter: QueryFilter | None):
        return None if query_filter is None else qm.Filter(must=filter_conditions(query_filter, _ServerConditions))

    def query(self, *, query_filter, dense, sparse_indices, sparse_values, mode, limit, prefetch_limit, fusion,
              leg_ranks=False):
        flt = self._filter(query_filter)
        sparse = (
            qm.SparseVector(indices=list(sparse_indices), values=list(sparse_values))
            if sparse_indices is not None
            else None
        )
        if mode == SearchMode.HYBRID and leg_ranks:
            legs = [qm.QueryRequest(query=q, using=name, filter=flt, limit=prefetch_limit, with_payload=HIT_PAYLOAD)
                    for name, q in (("dense", dense), ("sparse", sparse))]
            dense_hits, sparse_hits = self._call(
                "query", lambda: self.client.query_batch_points(self.collection, requests=legs))
            return fuse_legs(_leg_hits(dense_hits.points), _leg_hits(sparse_hits.points), fusion=fusion, limit=limit)
        if mode == SearchMode.HYBRID:
            request = qm.QueryRequest(
                prefetch=[
                    qm.Prefetch(query=dense, using="dense", limit=prefetch_limit, filter=flt),
                    qm.Prefetch(query=sparse, using="sparse", limit=prefetch_limit, filter=flt),
                ],
                query=_server_fusion(fusion), filter=flt, limit=limit, with_payload=HIT_PAYLOAD,
            )
        elif mode == SearchMode.DENSE:
            request = qm.QueryRequest(query=dense, using="dense", filter=flt, limit=limit, with_payload=HIT_PAYLOAD)
        else:
            request = qm.QueryRequest(query=sparse, using="sparse", filter=flt, limit=limit, with_payload=HIT_PAYLOAD)
        (response,) = self._call("query", lambda: self.client.query_batch_points(self.collection, requests=[request]))
        hits = [ScoredId(id=point_id, score=score, document_id=document_id)
                for point_id, score, document_id in _leg_hits(response.points)]
        return single_leg_ranks(hits, mode) if leg_ranks else hits

    def count(self, query_filter: QueryFilter | None = None) -> int:
        flt = self._filter(query_filter)
        return self._call("count", lambda: self.client.count(self.collection, count_filter=flt, exact=True).count)

    def scroll(self, *, offset=None, limit, with_vectors=True):
        records, next_offset = self._call("scroll", lambda: self.client.scroll(
            self.collection, offset=offset, limit=limit, with_payload=True, with_vectors=with_vectors))
        points = [stored_point(r.id, r.payload, r.vector if with_vectors else None) for r in records]
        return points, None if next_offset is None else str(next_offset)

    def existing_ids(self, ids):
        if not ids:
            return set()
        records = self._call("retrieve", lambda: self.client.retrieve(
            self.collection, ids=list(ids), with_payload=False, with_vectors=False))
        return {str(r.id) for r in records}

    def set_payload(self, ids, payload):
        present = list(self.existing_ids(ids))  # the server refuses the call if one id is not a point
        if present:
            self._call("set the payload", lambda: self.client.overwrite_payload(
                self.collection, payload=payload, points=present, wait=True))

    def health(self) -> IndexHealth:
        try:
            exists = self.client.collection_exists(self.collection)
            points = self.client.count(self.collection, exact=True).count if exists else None
        except Exception as exc:
            return IndexHealth(ok=False, backend=self.backend_name, detail=f"Qdrant at {self.where}: {exc}")
        detail = str(self.where) if exists else f"collection {self.collection!r} not created yet"
        return IndexHealth(ok=True, backend=self.backend_name, detail=detail, points=points)

    def close(self) -> None:
        with warnings.catch_warnings():
            # qdrant-client warns when the connection to an unreachable server cannot be closed.
            warnings.simplefilter("ignore", RuntimeWarning)
            self.client.close()


def _server_fusion(fusion: Fusion):
    if fusion.method == FusionMethod.DBSF:
        return qm.FusionQuery(fusion=qm.Fusion.DBSF)
    # Leg weights need a server recent enough to know RRF weights; an older one refuses the query.
    return qm.RrfQuery(rrf=qm.Rrf(k=fusion.k, weights=list(fusion.weights) if fusion.weights else None))


class _ServerConditions:
    """How payload conditions are spelled in qdrant-client (see payload.filter_conditions)."""

    @staticmethod
    def match(key, value):
        return qm.FieldCondition(key=key, match=qm.MatchValue(value=value))

    @staticmethod
    def match_any(key, values):
        return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(values)))

    @staticmethod
    def greater_than(key, value):
        return qm.FieldCondition(key=key, range=qm.Range(gt=value))


def _leg_hits(points):
    return [(str(p.id), p.score, (p.payload or {}).get("document_id")) for p in points]
