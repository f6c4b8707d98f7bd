"""The owner's link to the embedded store from a linked process's side: what it refuses and what a
caller sees when the owner is gone (the contract suite runs every call through it)."""
import pytest

from chunks.vector_index import QueryFilter, VectorStoreUnavailable
from chunks.vector_index.owner_link import OwnerLinkIndex, OwnerLinkServer
from chunks.vector_index.qdrant_edge import EdgeVectorIndex
from ragbase.testing import ensured


@pytest.fixture
def owner(tmp_path):
    index = ensured(EdgeVectorIndex(path=tmp_path / "qdrant", collection="test"))
    server = OwnerLinkServer(index)
    yield server
    if server.path.parent.exists():
        server.stop()
    index.close()


def test_a_stopped_owner_means_store_unavailable_and_health_says_so(owner):
    linked = OwnerLinkIndex(path=owner.path, key=owner.key, collection="test")
    assert linked.count(QueryFilter(owner_id=1)) == 0
    owner.stop()
    assert not owner.path.parent.exists()  # the socket and its folder are gone
    with pytest.raises(VectorStoreUnavailable, match="not answering"):
        linked.count()
    with pytest.raises(VectorStoreUnavailable, match="not answering"):  # a new link cannot be opened either
        linked.count()
    health = linked.health()
    assert not health.ok and "not answering" in health.detail
    linked.close()


def test_only_the_contracts_calls_are_answered(owner):
    linked = OwnerLinkIndex(path=owner.path, key=owner.key, collection="test")
    with pytest.raises(VectorStoreUnavailable, match="does not answer 'close'"):
        linked._call("close")
    assert linked.health().ok  # the owner's index is still open
    linked.close()
