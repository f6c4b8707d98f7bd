"""The pgvector baseline (bench only): the same chunks' dense vectors in Postgres with pgvector (HNSW, cosine)
plus tsvector/GIN full-text ranking, fused by reciprocal rank fusion in ONE SQL query.

The full-text leg ORs the query's terms (plainto_tsquery with & turned into |): as an AND query it
matches almost nothing for multi-word natural-language queries and would make the baseline look
worse than it is. The indexes are built after the rows are loaded (pgvector's advice; inserting
100k rows into an existing HNSW index took longer than the whole bench should)."""
from django.db import connection

from chunks.models import Chunk

TABLE = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS bench_pgvector (chunk_id bigint PRIMARY KEY, owner_id bigint, document_id bigint,
                                           embedding vector({dim}), tsv tsvector)
"""
# The vectors come in through a staging table so that each baseline row is written once, with
# its tsvector (an UPDATE afterwards would leave a dead copy of every row in the size measured).
STAGING = "CREATE TEMP TABLE IF NOT EXISTS bench_pgvector_staging (chunk_id bigint, embedding text)"
LOAD_FROM_STAGING = """
INSERT INTO bench_pgvector
SELECT c.id, c.owner_id, c.document_id, s.embedding::vector({dim}), to_tsvector('english', d.title || ' ' || c.text)
  FROM bench_pgvector_staging s JOIN chunks_chunk c ON c.id = s.chunk_id JOIN chunks_document d ON d.id = c.document_id
"""
LOAD_BATCH = 5000
INDEXES = """
SET maintenance_work_mem = '1GB';
CREATE INDEX bench_pgvector_hnsw ON bench_pgvector USING hnsw (embedding vector_cosine_ops);
CREATE INDEX bench_pgvector_gin ON bench_pgvector USING gin (tsv);
CREATE INDEX bench_pgvector_owner ON bench_pgvector (owner_id);
ANALYZE bench_pgvector
"""

HYBRID_RRF = """
WITH terms AS (SELECT nullif(replace(plainto_tsquery('english', %(text)s)::text, '&', '|'), '')::tsquery AS query),
dense AS (
    SELECT chunk_id, row_number() OVER (ORDER BY embedding <=> %(q)s::vector) AS r
      FROM (SELECT chunk_id, embedding FROM bench_pgvector WHERE owner_id = %(owner)s
             ORDER BY embedding <=> %(q)s::vector LIMIT %(prefetch)s) d
), sparse AS (
    SELECT chunk_id, row_number() OVER (ORDER BY rank DESC) AS r
      FROM (SELECT chunk_id, ts_rank_cd(tsv, terms.query) AS rank
              FROM bench_pgvector, terms
             WHERE owner_id = %(owner)s AND tsv @@ terms.query ORDER BY rank DESC LIMIT %(prefetch)s) s
)
SELECT coalesce(dense.chunk_id, sparse.chunk_id) AS chunk_id,
       coalesce(1.0 / (%(k)s + dense.r), 0) + coalesce(1.0 / (%(k)s + sparse.r), 0) AS score
  FROM dense FULL OUTER JOIN sparse USING (chunk_id)
 ORDER BY score DESC LIMIT %(limit)s
"""


def _run(cursor, script, params=None):
    for statement in filter(str.strip, script.split(";")):
        cursor.execute(statement, params if "%s" in statement else None)


def _load_vectors(cursor, *, owner_id, dim):
    """Add the owner's staged dense vectors. They are packed float32 bytea (chunks/fields.py),
    which SQL cannot cast to a vector, so they pass through Python in id-ordered batches."""
    staged = Chunk.objects.filter(owner_id=owner_id, dense_vector__isnull=False).order_by("id")
    cursor.execute("SELECT coalesce(max(chunk_id), 0) FROM bench_pgvector WHERE owner_id = %s", [owner_id])
    last_id = cursor.fetchone()[0]  # rows already in from an earlier build
    cursor.execute(STAGING)
    while batch := list(staged.filter(id__gt=last_id).values_list("id", "dense_vector")[:LOAD_BATCH]):
        with cursor.copy("COPY bench_pgvector_staging (chunk_id, embedding) FROM STDIN") as copy:
            for chunk_id, dense in batch:
                copy.write_row((chunk_id, str(dense)))
        cursor.execute(LOAD_FROM_STAGING.format(dim=dim))
        cursor.execute("TRUNCATE bench_pgvector_staging")
        last_id = batch[-1][0]


def build(*, owner_id: int, dim: int) -> tuple[int, int]:
    """Add the owner's not-yet-drained chunks (they still hold their vectors) to the baseline table
    and (re)build its indexes; returns (bytes incl. TOAST + indexes, rows)."""
    with connection.cursor() as cursor:
        _run(cursor, TABLE.format(dim=dim))
        for index in ("hnsw", "gin", "owner"):
            cursor.execute(f"DROP INDEX IF EXISTS bench_pgvector_{index}")
        _load_vectors(cursor, owner_id=owner_id, dim=dim)
        _run(cursor, INDEXES)
        cursor.execute("SELECT pg_total_relation_size('bench_pgvector'), count(*) FROM bench_pgvector")
        return cursor.fetchone()


def query(*, owner_id: int, text: str, dense: list[float], limit=10, prefetch=100, rrf_k=60) -> list[tuple[int, float]]:
    """(chunk id, RRF score) best first. ef_search is raised to the prefetch depth: pgvector's HNSW
    scan returns at most ef_search rows (default 40)."""
    with connection.cursor() as cursor:
        cursor.execute("SET hnsw.ef_search = %s", [max(40, prefetch)])
        cursor.execute(HYBRID_RRF, {"q": str(list(dense)), "owner": owner_id, "text": text,
                                    "prefetch": prefetch, "limit": limit, "k": rrf_k})
        return cursor.fetchall()
