"""A Qdrant server's own collection snapshots (QDRANT_URL deployments): create, list, download,
restore. qdrant-client creates, lists and recovers from a URL; downloading a snapshot and
uploading one from this machine are plain REST calls it does not wrap.

Qdrant's caveats: a snapshot restores only into a server of the same minor version; an uploaded
snapshot is restored with `priority=snapshot` (the snapshot's data wins over what the collection
holds). The embedded engine cannot make snapshots: there, `manage.py export_vectors`.
"""
from pathlib import Path

import httpx
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from chunks.vector_index import VectorStoreUnavailable

_CHUNK = 1 << 20


class ServerSnapshots:
    def __init__(self, *, url: str, api_key: str, collection: str, timeout: float):
        self.base = f"{url.rstrip('/')}/collections/{collection}/snapshots"
        self.collection, self.timeout = collection, timeout
        self.headers = {"api-key": api_key} if api_key else {}
        self.client = QdrantClient(url=url, api_key=api_key or None, timeout=int(max(1, timeout)),
                                   check_compatibility=False)

    def _call(self, what, fn):
        try:
            return fn()
        except Exception as exc:
            raise VectorStoreUnavailable(f"Qdrant could not {what}: {exc}") from exc

    def create(self) -> qm.SnapshotDescription:
        return self._call("create a snapshot", lambda: self.client.create_snapshot(self.collection, wait=True))

    def list(self) -> list[qm.SnapshotDescription]:
        return self._call("list the snapshots", lambda: self.client.list_snapshots(self.collection))

    def download(self, name: str, path, progress=None) -> int:
        """Stream snapshot `name` into `path` (written as `<path>.partial`, renamed when complete)."""
        path = Path(path)
        partial = path.with_name(path.name + ".partial")

        def fetch():
            written = 0
            with httpx.stream("GET", f"{self.base}/{name}", headers=self.headers, timeout=self.timeout) as response:
                response.raise_for_status()
                with open(partial, "wb") as out:
                    for data in response.iter_bytes(_CHUNK):
                        out.write(data)
                        written += len(data)
                        if progress:
                            progress(len(data))
            partial.replace(path)
            return written

        try:
            return self._call(f"download snapshot {name!r}", fetch)
        finally:
            partial.unlink(missing_ok=True)

    def restore(self, source: str) -> None:
        """Restore the collection from `source`: a URL the server can fetch (recover), or a file on
        this machine (uploaded), both with priority=snapshot."""
        if source.startswith(("http://", "https://")):
            self._call("recover the snapshot", lambda: self.client.recover_snapshot(
                self.collection, location=source, priority=qm.SnapshotPriority.SNAPSHOT, wait=True))
            return

        def upload():
            with open(source, "rb") as snapshot:
                response = httpx.post(f"{self.base}/upload", params={"priority": "snapshot", "wait": "true"},
                                      files={"snapshot": (Path(source).name, snapshot)}, headers=self.headers,
                                      timeout=None)
            response.raise_for_status()

        self._call("restore the uploaded snapshot", upload)

    def close(self):
        self.client.close()
