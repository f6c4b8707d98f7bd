"""The contract every vector store backend fulfils (server: qdrant-client; embedded: qdrant-edge).

Points carry two named vectors, "dense" (cosine) and "sparse" (IDF modifier), and a payload:
    owner_id: str      (keyword index, is_tenant) — every query is filtered on it
    document_id: int   (integer index)
    source: str, mime_type: str (keyword indexes)
    modified_at: float (unix seconds, float index; 0 when unknown)
"""
import abc
import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime


class VectorStoreUnavailable(Exception):
    """The vector store cannot be reached or refused the call; the caller should retry later."""


class CollectionMismatch(Exception):
    """The collection exists but was made for other dimensions or another embedding model."""


class SearchMode(str, enum.Enum):
    HYBRID = "hybrid"
    DENSE = "dense"
    SPARSE = "sparse"


class FusionMethod(str, enum.Enum):
    RRF = "rrf"  # reciprocal rank fusion: ranks only
    DBSF = "dbsf"  # distribution-based score fusion: each leg's scores normalised (mean ± 3σ), summed


FUSION_SYNTAX = "rrf:K (e.g. rrf:60), rrf:K:DENSE,SPARSE (leg weights, e.g. rrf:60:1,0.5) or dbsf"
MAX_RRF_K = 10_000


@dataclass(frozen=True)
class Fusion:
    """How a hybrid query merges its dense and its sparse leg, in Qdrant's terms: RRF scores a
    point 1 / (k - 1 + rank / weight) per leg (rank 1-based, weight 1 unless given), DBSF sums
    the legs' normalised scores. Spelled as FUSION_SYNTAX (`Fusion.parse`, `str()`)."""

    method: FusionMethod
    k: int | None = None  # RRF only
    weights: tuple[float, float] | None = None  # RRF only: (dense, sparse)

    def __post_init__(self):
        if self.method == FusionMethod.RRF:
            if not isinstance(self.k, int) or not 1 <= self.k <= MAX_RRF_K:
                raise ValueError(f"RRF's k must be a whole number from 1 to {MAX_RRF_K}, not {self.k!r}")
            if self.weights is not None and (
                len(self.weights) != 2 or not all(math.isfinite(w) and w > 0 for w in self.weights)
            ):
                raise ValueError(
                    f"RRF's weights must be two positive numbers (dense, sparse), not {self.weights!r}")
        elif self.k is not None or self.weights is not None:
            raise ValueError(f"{self.method.value} takes no k or weights")

    @classmethod
    def parse(cls, text: str) -> "Fusion":
        """`text` in FUSION_SYNTAX; ValueError naming the syntax otherwise."""
        name, *args = str(text).strip().lower().split(":")
        try:
            if name == FusionMethod.DBSF and not args:
                return cls(FusionMethod.DBSF)
            if name == FusionMethod.RRF and len(args) in (1, 2):
                weights = tuple(float(w) for w in args[1].split(",")) if len(args) == 2 else None
                return cls(FusionMethod.RRF, k=int(args[0]), weights=weights)
        except ValueError as exc:
            raise ValueError(f"fusion {text!r}: {exc}; expected {FUSION_SYNTAX}") from None
        raise ValueError(f"unknown fusion {text!r}; expected {FUSION_SYNTAX}")

    def __str__(self) -> str:
        if self.method == FusionMethod.DBSF:
            return "dbsf"
        weights = f":{self.weights[0]:g},{self.weights[1]:g}" if self.weights else ""
        return f"rrf:{self.k}{weights}"


@dataclass(frozen=True)
class VectorPoint:
    id: str  # the chunk's qdrant_id (UUID string)
    # Lists, or array.arrays as the outbox reads them from Postgres (see chunks/fields.py).
    dense: Sequence[float]
    sparse_indices: Sequence[int]
    sparse_values: Sequence[float]
    payload: dict


@dataclass(frozen=True)
class QueryFilter:
    """What a caller may see, and the optional filters they asked for."""

    owner_id: int
    document_ids: list[int] | None = None
    sources: list[str] | None = None
    mime_types: list[str] | None = None
    modified_after: datetime | None = None


@dataclass(frozen=True, slots=True)
class ScoredId:
    id: str
    score: float
    document_id: int | None = None  # the point's payload document_id (what results are grouped by)
    # With leg_ranks: the hit's 1-based rank in the dense and the sparse leg's candidates (None: not
    # among them, or the leg was not queried).
    dense_rank: int | None = None
    sparse_rank: int | None = None


# A leg's hit as a backend hands it to fuse_legs: (id, score, payload document_id). The id may be
# the binding's own object (a UUID): only the merged hits kept are turned into strings.
LegHit = tuple[object, float, int | None]


def fuse_legs(dense: list[LegHit], sparse: list[LegHit], *, fusion: Fusion, limit: int) -> list[ScoredId]:
    """The `limit` best of two single-leg queries' hits (each in its leg's rank order) merged by
    `fusion` exactly as the engine's fused query merges its prefetches (Qdrant's formulas, see
    Fusion; the contract suite compares the two), each hit carrying its rank in each leg.
    A hybrid query that reports leg ranks runs the two legs and merges them here: Qdrant does not
    return a fused query's legs, and asking for both searched each leg twice."""
    merged: dict[object, list] = {}  # id -> [score, document_id, dense rank, sparse rank]
    for leg, hits in enumerate((dense, sparse)):
        for rank, ((point_id, _, document_id), score) in enumerate(zip(hits, _leg_scores(fusion, leg, hits)), 1):
            entry = merged.get(point_id)
            if entry is None:
                entry = merged[point_id] = [0.0, document_id, None, None]
            entry[0] += score
            entry[2 + leg] = rank
    # sorted() is stable: equal scores keep the dense leg's order, then the sparse leg's (the
    # engine's order too).
    best = sorted(merged.items(), key=lambda item: item[1][0], reverse=True)[:limit]
    return [ScoredId(id=str(point_id), score=score, document_id=document_id, dense_rank=dense_rank,
                     sparse_rank=sparse_rank)
            for point_id, (score, document_id, dense_rank, sparse_rank) in best]


def _leg_scores(fusion: Fusion, leg: int, hits: list[LegHit]) -> list[float]:
    """What each of a leg's hits adds to its fused score."""
    if fusion.method == FusionMethod.RRF:
        weight = fusion.weights[leg] if fusion.weights else 1.0
        return [1.0 / (fusion.k - 1 + rank / weight) for rank in range(1, len(hits) + 1)]
    # DBSF: scores mapped from mean ± 3 sample standard deviations onto 0..1 (0.5 when they do not vary).
    values = [score for _, score, _ in hits]
    if len(values) < 2:
        return [0.5] * len(values)
    mean = sum(values) / len(values)
    deviation = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    if deviation == 0:
        return [0.5] * len(values)
    low = mean - 3 * deviation
    return [(v - low) / (6 * deviation) for v in values]


def single_leg_ranks(hits: list[ScoredId], mode: "SearchMode") -> list[ScoredId]:
    """Hits of a one-leg query, ranked in that leg by their position."""
    field_name = "dense_rank" if mode == SearchMode.DENSE else "sparse_rank"
    return [replace(h, **{field_name: rank}) for rank, h in enumerate(hits, 1)]


@dataclass(frozen=True)
class IndexHealth:
    ok: bool
    backend: str
    detail: str = ""
    points: int | None = None
    extra: dict = field(default_factory=dict)


class VectorIndex(abc.ABC):
    backend_name: str = ""
    collection: str = ""
    # True once ensure_collection() succeeded on this object (the outbox ensures on first use).
    ready: bool = False

    @abc.abstractmethod
    def ensure_collection(self, *, dense_dim: int, model_id: str) -> None:
        """Create the collection if missing (idempotent). Raise CollectionMismatch if it exists
        with another dense dimension or model_id; never overwrite it."""

    @abc.abstractmethod
    def drop_collection(self) -> None:
        """Delete the collection and everything in it (`manage.py reindex` rebuilds it)."""

    @abc.abstractmethod
    def upsert(self, points: list[VectorPoint]) -> None:
        """Write points and return once they are durable and searchable (wait=true)."""

    @abc.abstractmethod
    def delete(self, ids: list[str]) -> None:
        """Delete points by id; ids that do not exist are ignored."""

    @abc.abstractmethod
    def query(
        self,
        *,
        query_filter: QueryFilter,
        dense: list[float] | None,
        sparse_indices: list[int] | None,
        sparse_values: list[float] | None,
        mode: SearchMode,
        limit: int,
        prefetch_limit: int,
        fusion: Fusion,
        leg_ranks: bool = False,
    ) -> list[ScoredId]:
        """One query: in hybrid mode a dense and a sparse prefetch of `prefetch_limit` candidates
        merged by `fusion` (single-leg modes ignore it). With `leg_ranks` each hit carries its rank
        in each leg: in hybrid mode the legs then run as single-leg queries of `prefetch_limit` in
        one batch, merged by fuse_legs."""

    @abc.abstractmethod
    def count(self, query_filter: QueryFilter | None = None) -> int:
        """Exact number of points (matching the filter, if given)."""

    @abc.abstractmethod
    def scroll(self, *, offset: str | None = None, limit: int, with_vectors: bool = True):
        """One page of points in id order, starting at `offset` (None: the first page; then the
        offset this returned). Returns (points, next offset or None after the last page). Without
        vectors the points carry empty vectors: ids and payloads only."""

    @abc.abstractmethod
    def existing_ids(self, ids: list[str]) -> set[str]:
        """The ids among `ids` that are points of the collection."""

    @abc.abstractmethod
    def set_payload(self, ids: list[str], payload: dict) -> None:
        """Replace the whole payload of these points, keeping their vectors; ids that are not
        points are ignored."""

    @abc.abstractmethod
    def recorded_spec(self) -> dict | None:
        """What the collection was made for, {"dense_dim": int, "model_id": str}; None when the
        collection does not exist."""

    @abc.abstractmethod
    def health(self) -> IndexHealth:
        """Reachability and collection presence, without raising."""

    def optimize(self) -> str:
        """Build the engine's search indexes now, blocking; returns what was done. A Qdrant server
        does this in the background by itself, so by default there is nothing to do."""
        return "nothing to do: the server builds its indexes in the background"

    def close(self) -> None:
        """Release files, locks and connections."""
