"""Moving points without embedding them again: export a collection to a vector file, import a file
into a collection, copy one collection into another (embedded → server and back), and the check
that a store holds exactly the chunks Postgres marks SYNCED afterwards.

Memory stays bounded: points move one scroll page (or one file block) at a time. Point ids are the
chunks' fixed qdrant_ids, so importing or copying twice changes nothing and an interrupted run is
simply run again.
"""
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from chunks.backup.fileformat import Header, VectorFileReader, VectorFileWriter
from chunks.services.index_check import IndexReport, check_index
from chunks.vector_index import VectorIndex, iter_pages

PAGE_SIZE = 512


class VectorFileMismatch(Exception):
    """The file's vectors were made by another model or have another dimension than the target."""


@dataclass(frozen=True)
class TransferResult:
    points: int
    header: Header
    check: IndexReport | None = None  # the target against Postgres, when asked


def _spec(index: VectorIndex) -> dict:
    spec = index.recorded_spec()
    if spec is None:
        raise VectorFileMismatch(f"collection {index.collection!r} ({index.backend_name}) does not exist: nothing to copy")
    return spec


def export_vectors(*, index: VectorIndex, path, progress=None, page_size=PAGE_SIZE) -> TransferResult:
    """Write every point of `index` to `path`. The file appears under its name only once complete
    (it is written beside it as `<path>.partial` first)."""
    spec = _spec(index)
    header = Header(collection=index.collection, model_id=spec["model_id"], dense_dim=spec["dense_dim"],
                    points=index.count(), created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    source=index.backend_name)
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    try:
        with open(partial, "wb") as stream:
            writer = VectorFileWriter(stream, header)
            for page in iter_pages(index, page_size=page_size, with_vectors=True):
                writer.write(page)
                if progress:
                    progress(len(page))
            writer.finish()
            stream.flush()
            os.fsync(stream.fileno())
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return TransferResult(points=writer.points, header=header)


def read_header(path) -> Header:
    with open(path, "rb") as stream:
        return VectorFileReader(stream).header


def spec_problem(header: Header, *, dense_dim: int, model_id: str, what: str) -> str:
    """Why vectors described by `header` cannot go where `what` expects dense_dim/model_id ("" if they can)."""
    if header.dense_dim != dense_dim or header.model_id != model_id:
        return (f"the file holds {header.dense_dim}-d vectors of {header.model_id!r}, but {what} "
                f"{dense_dim}-d vectors of {model_id!r}")
    return ""


def import_vectors(*, index: VectorIndex, path, expected: dict, progress=None) -> TransferResult:
    """Load the file at `path` into `index`'s collection (created if missing). `expected` is
    {"dense_dim", "model_id"} of the vectors this installation searches with (the embedder's).
    The whole file is verified first (lengths, count, checksum): a truncated or altered file, or
    one of another model or dimension, is refused before anything is written."""
    with open(path, "rb") as stream:
        reader = VectorFileReader(stream)
        header = reader.header
        points = reader.verify()
    problem = spec_problem(header, what="this installation embeds with", **expected)
    recorded = index.recorded_spec()
    if not problem and recorded is not None:
        problem = spec_problem(header, what=f"collection {index.collection!r} holds", **recorded)
    if problem:
        raise VectorFileMismatch(f"refusing to import: {problem}")
    index.ensure_collection(dense_dim=header.dense_dim, model_id=header.model_id)
    with open(path, "rb") as stream:
        reader = VectorFileReader(stream)
        for block in reader.blocks():  # checked again: the file could change between the passes
            index.upsert(block)
            if progress:
                progress(len(block))
    return TransferResult(points=points, header=header)


def copy_collection(*, source: VectorIndex, target: VectorIndex, progress=None, page_size=PAGE_SIZE) -> TransferResult:
    """Copy every point of `source` into `target` (created for the same vectors if missing;
    refused if it exists for others), then check `target` against Postgres."""
    spec = _spec(source)
    header = Header(collection=source.collection, model_id=spec["model_id"], dense_dim=spec["dense_dim"],
                    points=source.count(), source=source.backend_name)
    recorded = target.recorded_spec()
    if recorded is not None:
        problem = spec_problem(header, what=f"the target collection {target.collection!r} holds", **recorded)
        if problem:
            raise VectorFileMismatch(f"refusing to copy: {problem.replace('the file holds', 'the source holds')}")
    target.ensure_collection(dense_dim=header.dense_dim, model_id=header.model_id)
    copied = 0
    for page in iter_pages(source, page_size=page_size, with_vectors=True):
        target.upsert(page)
        copied += len(page)
        if progress:
            progress(len(page))
    return TransferResult(points=copied, header=header, check=check_index(index=target, payloads=False))

