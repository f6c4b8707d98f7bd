"""The portable vector file: every point of a collection (id, both named vectors, payload), so a
store can be rebuilt without embedding anything again. Little-endian throughout:

    magic     b"RAGBASE-VECTORS\\n" (16 bytes)
    header    u32 length, then that many bytes of JSON: {"format": 1, "collection", "model_id",
              "dense_dim", "dense_dtype": "float16", "sparse_model", "points" (when the export
              started: for progress bars), "created_at", "source"}
    blocks    each: u32 n (points, > 0), u32 body length, body (columns of the n points):
                ids        n × 16 bytes (UUID)
                dense      n × dense_dim × float16 (the stores keep float16: nothing is lost)
                nnz        n × u32 (sparse terms per point)
                indices    Σnnz × u32, values Σnnz × float32
                payload    n × u32 (index into the block's payload table)
                table      JSON list of the block's distinct payloads (chunks of a document share one)
    trailer   u32 0, u32 40, then u64 the number of points written, 32 bytes sha256 of every byte
              of the file before these 32

A reader checks the magic, the format version, every length, the point count and the digest, so a
truncated or altered file is refused (`BadVectorFile`) before anything is written from it.
Only the standard library and numpy.
"""
import hashlib
import json
import struct
import uuid
from array import array
from dataclasses import dataclass

import numpy as np

from chunks.vector_index import VectorPoint

MAGIC = b"RAGBASE-VECTORS\n"
FORMAT_VERSION = 1
_U32 = struct.Struct("<I")
_BLOCK_HEAD = struct.Struct("<II")
_TRAILER_BODY = 40
# A block longer than this is not a block ragbase wrote (blocks are a few MB): refuse, don't allocate.
_MAX_BLOCK_BYTES = 1 << 30


class BadVectorFile(Exception):
    """The file is not a complete, intact ragbase vector file."""


@dataclass(frozen=True)
class Header:
    collection: str
    model_id: str
    dense_dim: int
    points: int
    created_at: str = ""
    source: str = ""

    @property
    def sparse_model(self) -> str:
        return dict(part.split("=", 1) for part in self.model_id.split(";") if "=" in part).get("sparse", "")

    def to_json(self) -> bytes:
        return json.dumps({
            "format": FORMAT_VERSION, "collection": self.collection, "model_id": self.model_id,
            "dense_dim": self.dense_dim, "dense_dtype": "float16", "sparse_model": self.sparse_model,
            "points": self.points, "created_at": self.created_at, "source": self.source,
        }).encode()


class VectorFileWriter:
    """Writes a vector file to a binary stream: the header now, `write(points)` per block, then
    `finish()` (the trailer). A file without its trailer is refused by every reader."""

    def __init__(self, stream, header: Header):
        self.stream, self.dim = stream, header.dense_dim
        self.digest = hashlib.sha256()
        self.points = 0
        body = header.to_json()
        self._put(MAGIC + _U32.pack(len(body)) + body)

    def _put(self, data: bytes):
        self.digest.update(data)
        self.stream.write(data)

    def write(self, points: list[VectorPoint]) -> None:
        if not points:
            return
        dense = np.asarray([p.dense for p in points], dtype=np.float32)
        if dense.shape != (len(points), self.dim):
            raise ValueError(f"dense vectors of shape {dense.shape}, the file holds {self.dim}-d vectors")
        nnz = np.fromiter((len(p.sparse_indices) for p in points), dtype="<u4", count=len(points))
        indices = np.fromiter((i for p in points for i in p.sparse_indices), dtype="<u4", count=int(nnz.sum()))
        values = np.fromiter((v for p in points for v in p.sparse_values), dtype="<f4", count=int(nnz.sum()))
        table, slots = {}, []
        for p in points:
            key = json.dumps(p.payload, sort_keys=True)
            slots.append(table.setdefault(key, len(table)))
        body = b"".join((
            b"".join(uuid.UUID(p.id).bytes for p in points),
            dense.astype("<f2").tobytes(), nnz.tobytes(), indices.tobytes(), values.tobytes(),
            np.asarray(slots, dtype="<u4").tobytes(), ("[" + ",".join(table) + "]").encode(),
        ))
        self._put(_BLOCK_HEAD.pack(len(points), len(body)) + body)
        self.points += len(points)

    def finish(self) -> None:
        self._put(_BLOCK_HEAD.pack(0, _TRAILER_BODY) + struct.pack("<Q", self.points))
        self.stream.write(self.digest.digest())


class VectorFileReader:
    """Reads a vector file from a binary stream: `header` at once, then `blocks()` yields each
    block's points and, at the end, checks the count and the digest. `verify()` reads it all
    without decoding a point (the first pass of an import)."""

    def __init__(self, stream):
        self.stream = stream
        self.digest = hashlib.sha256()
        magic = self._take(len(MAGIC))
        if magic != MAGIC:
            raise BadVectorFile("not a ragbase vector file (its first bytes are not the format's magic)")
        raw = self._take(_U32.unpack(self._take(4))[0])
        try:
            fields = json.loads(raw)
        except ValueError:
            raise BadVectorFile("its header is not valid JSON") from None
        if fields.get("format") != FORMAT_VERSION:
            raise BadVectorFile(f"format version {fields.get('format')!r}; this ragbase reads version {FORMAT_VERSION}")
        self.header = Header(collection=fields["collection"], model_id=fields["model_id"],
                             dense_dim=int(fields["dense_dim"]), points=int(fields["points"]),
                             created_at=fields.get("created_at", ""), source=fields.get("source", ""))

    def _take(self, n: int) -> bytes:
        data = self.stream.read(n)
        if len(data) != n:
            raise BadVectorFile("the file is truncated (it ends before its trailer)")
        self.digest.update(data)
        return data

    def _raw_blocks(self):
        read = 0
        while True:
            n, length = _BLOCK_HEAD.unpack(self._take(_BLOCK_HEAD.size))
            if n == 0:
                if length != _TRAILER_BODY:
                    raise BadVectorFile("its trailer is malformed")
                (count,) = struct.unpack("<Q", self._take(8))
                expected = self.digest.digest()
                if self.stream.read(32) != expected:
                    raise BadVectorFile("its checksum does not match: the file is corrupted or was altered")
                if count != read:
                    raise BadVectorFile(f"its trailer counts {count} points but it holds {read}")
                if self.stream.read(1):
                    raise BadVectorFile("bytes follow its trailer")
                return
            if length > _MAX_BLOCK_BYTES:
                raise BadVectorFile("a block length is out of range: the file is corrupted")
            read += n
            yield n, self._take(length)

    def verify(self) -> int:
        """Read to the end checking lengths, count and digest; returns the number of points."""
        return sum(n for n, _ in self._raw_blocks())

    def blocks(self):
        for n, body in self._raw_blocks():
            yield self._decode(n, body)

    def _decode(self, n: int, body: bytes) -> list[VectorPoint]:
        dim = self.header.dense_dim
        try:
            at = 16 * n
            ids = [str(uuid.UUID(bytes=body[i:i + 16])) for i in range(0, at, 16)]
            dense = np.frombuffer(body, dtype="<f2", count=n * dim, offset=at)
            at += 2 * n * dim
            nnz = np.frombuffer(body, dtype="<u4", count=n, offset=at)
            at += 4 * n
            total = int(nnz.sum())
            indices = np.frombuffer(body, dtype="<u4", count=total, offset=at)
            values = np.frombuffer(body, dtype="<f4", count=total, offset=at + 4 * total)
            at += 8 * total
            slots = np.frombuffer(body, dtype="<u4", count=n, offset=at)
            table = json.loads(body[at + 4 * n:])
            # array.arrays (native byte order) of each point's values: ~12x faster to build than
            # lists, and what the engine binding reads fastest (as the outbox hands it staged vectors).
            dense_bytes, step = dense.astype("=f4").tobytes(), 4 * dim
            index_bytes, value_bytes = indices.astype("=u4").tobytes(), values.astype("=f4").tobytes()
            ends = (4 * np.cumsum(nnz)).tolist()
            starts = [0] + ends[:-1]
            return [
                VectorPoint(id=ids[k], dense=array("f", dense_bytes[k * step:(k + 1) * step]),
                            sparse_indices=array("I", index_bytes[starts[k]:ends[k]]),
                            sparse_values=array("f", value_bytes[starts[k]:ends[k]]), payload=table[slots[k]])
                for k in range(n)
            ]
        except (ValueError, IndexError) as exc:
            raise BadVectorFile(f"a block does not decode: {exc}") from None
