"""Random create / modify / delete of documents interleaved with drains and searches: search never
returns a deleted or stale chunk, and at the end Postgres and the vector store agree."""
import pytest
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from chunks.models import Chunk, Document, SyncStatus
from chunks.outbox.drain import drain
from chunks.outbox.enqueue import delete_document
from chunks.services.ingestion import ingest_content
from chunks.vector_index import QueryFilter, get_vector_index
from search.services import search


@pytest.mark.reliability
@pytest.mark.slow
def test_deletes_and_updates_stay_consistent(db, vector_index, embedder, django_user_model):
    users = [django_user_model.objects.create_user(f"prop{i}") for i in range(2)]

    class DocumentLifecycle(RuleBasedStateMachine):
        @initialize()
        def start(self):
            self.counter = 0
            self.live = {}  # (user index, source id) -> current keyword
            self.retired = set()  # (user index, keyword) of deleted or replaced versions

        def keyword(self):
            self.counter += 1
            return f"kw{self.counter:04d}zeta"

        def ingest(self, user_index, source_id, keyword):
            ingest_content(
                owner=users[user_index], source="upload", source_id=source_id, title=source_id,
                mime_type="text/plain", content=f"Common words about reports and {keyword} here.".encode(),
            )

        @rule(user_index=st.integers(0, 1))
        def create(self, user_index):
            keyword = self.keyword()
            source_id = f"doc-{self.counter}"
            self.ingest(user_index, source_id, keyword)
            self.live[(user_index, source_id)] = keyword

        @rule(data=st.data())
        def modify(self, data):
            if not self.live:
                return
            key = data.draw(st.sampled_from(sorted(self.live)))
            self.retired.add((key[0], self.live[key]))
            self.live[key] = self.keyword()
            self.ingest(key[0], key[1], self.live[key])

        @rule(data=st.data())
        def delete(self, data):
            if not self.live:
                return
            user_index, source_id = data.draw(st.sampled_from(sorted(self.live)))
            self.retired.add((user_index, self.live.pop((user_index, source_id))))
            delete_document(document=Document.objects.get(owner=users[user_index], source_id=source_id))

        @rule()
        def drain_outbox(self):
            assert not drain().store_unavailable

        @rule(data=st.data())
        def search_a_retired_keyword(self, data):
            if self.retired:
                user_index, keyword = data.draw(st.sampled_from(sorted(self.retired)))
                assert search(user=users[user_index], query=keyword, mode="sparse").hits == []

        @invariant()
        def synced_documents_are_found_by_their_keyword_only_by_their_owner(self):
            for (user_index, source_id), keyword in self.live.items():
                synced = not Chunk.objects.filter(document__source_id=source_id).exclude(
                    sync_status=SyncStatus.SYNCED
                ).exists()
                hits = search(user=users[user_index], query=keyword, mode="sparse").hits
                assert all(h.source_id == source_id for h in hits)
                if synced:
                    assert [h.source_id for h in hits] == [source_id]
                assert search(user=users[1 - user_index], query=keyword, mode="sparse").hits == []

        def teardown(self):
            drain()
            index = get_vector_index()
            for user in users:
                in_postgres = Chunk.objects.filter(owner=user, sync_status=SyncStatus.SYNCED).count()
                assert index.count(QueryFilter(owner_id=user.pk)) == in_postgres
            assert not Chunk.objects.filter(sync_status=SyncStatus.PENDING).exists()
            for document in Document.objects.all():
                delete_document(document=document)
            drain()
            assert index.count() == 0

    run_state_machine_as_test(
        DocumentLifecycle,
        settings=hypothesis_settings(max_examples=12, stateful_step_count=12, deadline=None, database=None),
    )
