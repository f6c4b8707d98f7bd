"""The embedded store served by its owner process to the web server's other processes.

Only one process may open the embedded engine (it locks its folder). `manage.py serve` is that
process: it holds the store, drains the outbox, and answers the vector index calls of gunicorn's
worker processes over a Unix socket (`OwnerLinkServer`). In those processes `get_vector_index()`
is an `OwnerLinkIndex`, which forwards each call and hands back the owner's answer or exception.
So the HTTP, Django, authentication and query-embedding work of a search runs in
GUNICORN_WORKERS processes, each with its own GIL, and only the engine's own work stays in the
owner. The socket is the owner's alone (mode 0600 in a 0700 folder) and each connection must
also prove it knows the owner's random key (multiprocessing's HMAC handshake).
"""
import logging
import os
import secrets
import socket
import tempfile
import threading
from multiprocessing.connection import Client, Listener
from pathlib import Path

from chunks.vector_index.base import IndexHealth, ScoredId, VectorIndex, VectorStoreUnavailable

log = logging.getLogger(__name__)

# What a linked process may ask of the owner's index: the contract's calls (`close` only closes the link).
FORWARDED = VectorIndex.__abstractmethods__ | {"optimize"}


def _hit_fields(hit: ScoredId) -> tuple:
    return hit.id, hit.score, hit.document_id, hit.dense_rank, hit.sparse_rank


class OwnerLinkServer:
    """In the owner: a thread accepting linked processes' connections at `path` (a new private
    folder of the temp dir: a socket's path is limited to 107 bytes), and one thread per connection
    answering its calls on `index` in turn (a linked process opens one connection per thread, so
    each request thread's call runs at once). `key`: what a connection must know, new for each
    server."""

    def __init__(self, index: VectorIndex):
        self.index, self.key = index, secrets.token_bytes(32)
        # Named after this process, so that a later start can remove the folder if it is killed.
        self.path = Path(tempfile.mkdtemp(prefix=f"ragbase-store-{os.getpid()}-")) / "owner.sock"
        old_umask = os.umask(0o177)
        try:
            self._listener = Listener(str(self.path), family="AF_UNIX", authkey=self.key)
        finally:
            os.umask(old_umask)
        self._open = set()  # connections being answered
        self._open_lock = threading.Lock()
        self._accepting = threading.Thread(target=self._accept, name="store-link-accept", daemon=True)
        self._accepting.start()

    def _accept(self):
        while True:
            try:
                connection = self._listener.accept()
            except OSError:  # closed by stop()
                return
            except Exception:  # a client that failed the handshake: refuse it, keep serving
                log.warning("vector store link: refused a connection that did not know the key")
                continue
            threading.Thread(target=self._answer, args=(connection,), name="store-link", daemon=True).start()

    def _answer(self, connection):
        with self._open_lock:
            self._open.add(connection)
        try:
            self._answer_calls(connection)
        finally:
            with self._open_lock:
                self._open.discard(connection)
            connection.close()

    def _answer_calls(self, connection):
        while True:
            try:
                method, kwargs = connection.recv()
            except (EOFError, OSError):  # the linked process closed the link or exited
                return
            try:
                if method not in FORWARDED:
                    raise VectorStoreUnavailable(f"the store's owner does not answer {method!r}")
                answer = getattr(self.index, method)(**kwargs)
                # Hits as tuples: pickling 100 ScoredId objects took 0.35 ms there and back, tuples 0.015 ms.
                reply = ("hits", [_hit_fields(hit) for hit in answer]) if method == "query" else ("ok", answer)
            except Exception as exc:
                reply = ("error", exc)
            try:
                connection.send(reply)
            except (EOFError, OSError):
                return
            except Exception as exc:  # an exception that cannot be pickled
                connection.send(("error", VectorStoreUnavailable(f"{type(exc).__name__}: {exc}")))

    def stop(self):
        """No new connections, and the open ones closed (their next call finds the owner gone)."""
        self._listener.close()  # also removes the socket file
        with self._open_lock:
            for connection in self._open:
                # Wakes its thread's blocked recv (closing the descriptor would not); it closes it.
                with socket.fromfd(connection.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as duplicate:
                    duplicate.shutdown(socket.SHUT_RDWR)
        self.path.parent.rmdir()


class OwnerLinkIndex(VectorIndex):
    """In a linked process: the owner's index, one call at a time per thread over that thread's
    own connection. A link that cannot be opened or breaks raises VectorStoreUnavailable (the
    caller's retry path); the next call opens a new one."""

    backend_name = "embedded (qdrant-edge), through the process that owns it"

    def __init__(self, *, path: Path, key: bytes, collection: str):
        self.path, self._key, self.collection = str(path), key, collection
        self._local = threading.local()
        self._connections = []
        self._connections_lock = threading.Lock()

    def _call(self, method, **kwargs):
        connection = getattr(self._local, "connection", None)
        try:
            if connection is None:
                connection = self._local.connection = Client(self.path, family="AF_UNIX", authkey=self._key)
                with self._connections_lock:
                    self._connections.append(connection)
            connection.send((method, kwargs))
            status, value = connection.recv()
        except (OSError, EOFError) as exc:
            self._local.connection = None
            raise VectorStoreUnavailable(
                f"the process that owns the embedded vector store is not answering ({type(exc).__name__}: {exc})"
            ) from None
        if status == "error":
            raise value
        if status == "hits":
            return [ScoredId(*fields) for fields in value]
        return value

    def ensure_collection(self, **kwargs):
        self._call("ensure_collection", **kwargs)
        self.ready = True

    def drop_collection(self):
        self._call("drop_collection")
        self.ready = False

    def upsert(self, points):
        self._call("upsert", points=points)

    def delete(self, ids):
        self._call("delete", ids=ids)

    def query(self, **kwargs):
        return self._call("query", **kwargs)

    def count(self, query_filter=None):
        return self._call("count", query_filter=query_filter)

    def scroll(self, **kwargs):
        return self._call("scroll", **kwargs)

    def existing_ids(self, ids):
        return self._call("existing_ids", ids=ids)

    def set_payload(self, ids, payload):
        self._call("set_payload", ids=ids, payload=payload)

    def recorded_spec(self):
        return self._call("recorded_spec")

    def health(self):
        try:
            return self._call("health")
        except VectorStoreUnavailable as exc:
            return IndexHealth(ok=False, backend=self.backend_name, detail=str(exc))

    def optimize(self):
        return self._call("optimize")

    def close(self):
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()
