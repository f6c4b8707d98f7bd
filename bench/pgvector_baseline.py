"""Phase-4 baseline (bench only): the same chunks' dense vectors in Postgres with pgvector (HNSW, cosine)
plus tsvector/GIN full-text ranking, fused by reciprocal rank fusion in ONE SQL query."""
from django.db import connection

CREATE = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS bench_pgvector (chunk_id bigint PRIMARY KEY, owner_id bigint, document_id bigint,
                                           embedding vector({dim}), tsv tsvector);
INSERT INTO bench_pgvector
SELECT id, owner_id, document_id, dense_vector::vector({dim}), to_tsvector('english', text)
  FROM chunks_chunk WHERE owner_id = %s AND dense_vector IS NOT NULL ON CONFLICT DO NOTHING;
CREATE INDEX IF NOT EXISTS bench_pgvector_hnsw ON bench_pgvector USING hnsw (embedding vector_cosine_ops);
CREATE INDEX IF NOT EXISTS bench_pgvector_gin ON bench_pgvector USING gin (tsv);
CREATE INDEX IF NOT EXISTS bench_pgvector_owner ON bench_pgvector (owner_id);
ANALYZE bench_pgvector;
"""

HYBRID_RRF = """
WITH dense AS (
    SELECT chunk_id, row_number() OVER (ORDER BY embedding <=> %(q)s::vector) AS r
      FROM (SELECT chunk_id, embedding FROM bench_pgvector WHERE owner_id = %(owner)s
             ORDER BY embedding <=> %(q)s::vector LIMIT %(prefetch)s) d
), sparse AS (
    SELECT chunk_id, row_number() OVER (ORDER BY rank DESC) AS r
      FROM (SELECT chunk_id, ts_rank_cd(tsv, query) AS rank
              FROM bench_pgvector, websearch_to_tsquery('english', %(text)s) query
             WHERE owner_id = %(owner)s AND tsv @@ query ORDER BY rank DESC LIMIT %(prefetch)s) s
)
SELECT coalesce(dense.chunk_id, sparse.chunk_id) AS chunk_id,
       coalesce(1.0 / (%(k)s + dense.r), 0) + coalesce(1.0 / (%(k)s + sparse.r), 0) AS score
  FROM dense FULL OUTER JOIN sparse USING (chunk_id)
 ORDER BY score DESC LIMIT %(limit)s
"""


def build(*, owner_id: int, dim: int) -> tuple[int, int]:
    """Add the owner's not-yet-drained chunks (they still hold their vectors) to the baseline table;
    returns (bytes incl. TOAST + indexes, rows)."""
    with connection.cursor() as cursor:
        for statement in filter(str.strip, CREATE.format(dim=dim).split(";")):
            cursor.execute(statement, [owner_id] if "%s" in statement else None)
        cursor.execute("SELECT pg_total_relation_size('bench_pgvector'), count(*) FROM bench_pgvector")
        return cursor.fetchone()


def query(*, owner_id: int, text: str, dense: list[float], limit=10, prefetch=100, rrf_k=60) -> list[tuple[int, float]]:
    """(chunk id, RRF score) best first."""
    with connection.cursor() as cursor:
        cursor.execute("SET hnsw.ef_search = %s", [max(40, prefetch)])
        cursor.execute(HYBRID_RRF, {"q": str(list(dense)), "owner": owner_id, "text": text,
                                    "prefetch": prefetch, "limit": limit, "k": rrf_k})
        return cursor.fetchall()
