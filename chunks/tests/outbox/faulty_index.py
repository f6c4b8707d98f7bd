"""Fault-injecting wrappers around a real VectorIndex, and what a store holds, for the outbox tests."""
import random
import threading
from collections import Counter

from chunks.vector_index import IndexHealth, VectorIndex, VectorStoreUnavailable


class WrappedIndex(VectorIndex):
    """Delegates to a real index; subclasses inject behaviour. Thread-safe (one call at a time)."""

    def __init__(self, inner):
        self.inner = inner
        self.lock = threading.RLock()
        self.ready = inner.ready
        self.backend_name, self.collection = inner.backend_name, inner.collection
        self.upserted = Counter()

    def ensure_collection(self, **kwargs):
        with self.lock:
            self.inner.ensure_collection(**kwargs)
            self.ready = True

    def drop_collection(self):
        self.inner.drop_collection()

    def upsert(self, points):
        with self.lock:
            self.before_upsert(points)
            self.inner.upsert(points)
            self.upserted.update(p.id for p in points)
            self.after_upsert(points)

    def before_upsert(self, points):
        pass

    def after_upsert(self, points):
        pass

    def delete(self, ids):
        with self.lock:
            self.inner.delete(ids)

    def query(self, **kwargs):
        with self.lock:
            return self.inner.query(**kwargs)

    def count(self, query_filter=None):
        with self.lock:
            return self.inner.count(query_filter)

    def scroll(self, **kwargs):
        with self.lock:
            return self.inner.scroll(**kwargs)

    def existing_ids(self, ids):
        with self.lock:
            return self.inner.existing_ids(ids)

    def set_payload(self, ids, payload):
        with self.lock:
            self.inner.set_payload(ids, payload)

    def recorded_spec(self):
        return self.inner.recorded_spec()

    def health(self):
        return self.inner.health()


def stored_ids(index) -> set[str]:
    """Every point id in the store behind `index` (unwrapping test wrappers)."""
    ids, offset = set(), None
    while True:
        page, offset = index.scroll(offset=offset, limit=1000, with_vectors=False)
        ids.update(p.id for p in page)
        if offset is None:
            return ids


class FlakyIndex(WrappedIndex):
    """Fails like a real store: `down` → every call raises and health is not ok; `crash_rate` →
    the upsert lands but the drain dies before committing (like a killed worker); `error_rate` →
    a call fails while the store stays healthy (timeouts)."""

    def __init__(self, inner, *, seed=0, error_rate=0.0, crash_rate=0.0, outage_rate=0.0):
        super().__init__(inner)
        self.rng = random.Random(seed)
        self.error_rate, self.crash_rate, self.outage_rate = error_rate, crash_rate, outage_rate
        self.down = False

    def before_upsert(self, points):
        if self.down:
            raise VectorStoreUnavailable("connection refused (store down)")
        roll = self.rng.random()
        if roll < self.outage_rate:
            self.down = True
            raise VectorStoreUnavailable("connection refused (store went down)")
        if roll < self.outage_rate + self.error_rate:
            raise VectorStoreUnavailable("timed out")

    def after_upsert(self, points):
        if self.rng.random() < self.crash_rate:
            raise SimulatedCrash("worker died after the upsert, before the commit")

    def delete(self, ids):
        if self.down:
            raise VectorStoreUnavailable("connection refused (store down)")
        super().delete(ids)

    def health(self):
        if self.down:
            return IndexHealth(ok=False, backend="flaky", detail="down")
        return super().health()


class SimulatedCrash(Exception):
    pass


class RejectingIndex(WrappedIndex):
    """A healthy store that rejects every batch containing one of `bad_ids` (a bad point)."""

    def __init__(self, inner, bad_ids):
        super().__init__(inner)
        self.bad_ids = set(bad_ids)
        self.calls = 0

    def before_upsert(self, points):
        self.calls += 1
        bad = self.bad_ids.intersection(p.id for p in points)
        if bad:
            raise VectorStoreUnavailable(f"Bad request: wrong vector for point {sorted(bad)[0]}")
