import pytest

from chunks.outbox.drain import drain
from chunks.outbox.enqueue import delete_document
from chunks.vector_index import Fusion
from search.highlighting import QueryTerms, highlight
from search.services import SearchFilters, search

pytestmark = pytest.mark.django_db


def titles(result):
    return [h.title for h in result.hits]


def test_hybrid_finds_an_exact_rare_term_and_a_semantic_match(make_user, add_document):
    ann = make_user("ann")
    add_document(ann, "Firmware fault code XQ7731 appears when the flash chip is worn out.", title="Fault codes")
    add_document(ann, "Physicians prescribe statins so that patients' LDL levels go down.", title="Statins")
    add_document(ann, "The orchestra rehearsed the symphony in the concert hall.", title="Music")
    add_document(ann, "Gardeners water tomatoes early in the morning.", title="Garden")

    exact = search(user=ann, query="XQ7731", top_k=2)
    semantic = search(user=ann, query="medicine that reduces cholesterol", top_k=2)
    assert exact.hits[0].title == "Fault codes"
    assert semantic.hits[0].title == "Statins"
    # The exact code is found by the sparse leg; the paraphrase shares no word with its document.
    assert titles(search(user=ann, query="XQ7731", mode="sparse", top_k=1)) == ["Fault codes"]
    assert "Statins" in titles(search(user=ann, query="medicine that reduces cholesterol", mode="dense", top_k=1))
    # ...so the sparse leg alone finds nothing for it.
    assert search(user=ann, query="medicine that reduces cholesterol", mode="sparse", top_k=4).hits == []


def test_results_carry_snippet_source_link_and_page(make_user, add_document):
    ann = make_user("ann")
    add_document(ann, "Quarterly revenue grew by twelve percent.", title="Report", url="https://drive.example/1")
    hit = search(user=ann, query="revenue", top_k=1).hits[0]
    assert "<mark>revenue</mark>" in hit.snippet and hit.url == "https://drive.example/1" and hit.source == "upload"


def test_a_user_never_sees_another_users_chunks(make_user, add_document):
    users = [make_user(f"user{i}") for i in range(6)]
    for i, user in enumerate(users):
        add_document(user, f"Shared vocabulary about invoices and budgets, owned by number {i}.", title=f"Doc{i}")
    for i, user in enumerate(users):
        result = search(user=user, query="invoices budgets", top_k=20)
        assert {h.title for h in result.hits} == {f"Doc{i}"}


def test_deleted_chunks_are_never_returned(make_user, add_document):
    ann = make_user("ann")
    document = add_document(ann, "The zebra migration crosses the river.", title="Zebras")
    assert titles(search(user=ann, query="zebra migration")) == ["Zebras"]
    delete_document(document=document)
    # Before the deletion is pushed the point is still in the store, but its row is gone.
    before = search(user=ann, query="zebra migration")
    assert before.hits == [] and before.dropped_stale == 1
    drain()
    assert search(user=ann, query="zebra migration").dropped_stale == 0


def test_pending_chunks_are_counted_not_searchable(make_user, add_document):
    ann, bob = make_user("ann"), make_user("bob")
    add_document(ann, "Older notes about walruses.", title="Walruses")
    add_document(ann, "Fresh upload about penguins.", title="Penguins", drain_now=False)
    add_document(bob, "Bob's fresh upload about penguins.", title="Bob's penguins", drain_now=False)
    result = search(user=ann, query="penguins")
    assert titles(result) == ["Walruses"] and result.pending_chunks == 1  # ann's own, not yet searchable


def test_filters_by_source_and_document(make_user, add_document):
    ann = make_user("ann")
    upload = add_document(ann, "Alpine lakes are cold.", title="Upload lakes")
    add_document(ann, "Alpine lakes are deep.", title="Drive lakes", source="drive")
    assert titles(search(user=ann, query="alpine lakes", filters=SearchFilters(sources=["drive"]))) == ["Drive lakes"]
    assert titles(search(user=ann, query="alpine lakes", filters=SearchFilters(document_ids=[upload.pk]))) == [
        "Upload lakes"
    ]


def test_neighbouring_context_on_request(make_user, add_document, settings):
    settings.CHUNK_SIZE_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 12, 0
    ann = make_user("ann")
    add_document(ann, "Intro sentence about boats here. The anchor word kraken is here. Closing words about harbours.", title="Boats")
    hit = search(user=ann, query="kraken", top_k=1, context_chunks=1).hits[0]
    assert "kraken" in hit.text and hit.context_before and hit.context_after


def terms(query, embedder):
    return QueryTerms(query, embedder.sparse_terms)


def test_highlight_escapes_html_and_marks_terms(embedder):
    snippet = highlight("<b>Cats</b> and dogs & cats", terms("cats", embedder))
    assert snippet == "&lt;b&gt;<mark>Cats</mark>&lt;/b&gt; and dogs &amp; <mark>cats</mark>"


def test_highlight_marks_words_of_the_same_stem_only(embedder):
    assert highlight("Concat cats catalog CAT", terms("cat", embedder)) == "Concat <mark>cats</mark> catalog <mark>CAT</mark>"
    text = "Reading a file: the readline module reads files line by line."
    assert highlight(text, terms("read files with readline", embedder)) == (
        "<mark>Reading</mark> a <mark>file</mark>: the <mark>readline</mark> module <mark>reads</mark> "
        "<mark>files</mark> line by line.")


def test_stop_words_are_never_highlighted(embedder):
    query = terms("how will it be, and what is the file for?", embedder)
    text = "It will be done: the file is what it is for, and how."
    assert highlight(text, query) == "It will be done: the <mark>file</mark> is what it is for, and how."
    assert query.matched_words(text) == ["file"]
    assert highlight(text, terms("the will be", embedder)) == text


def test_each_search_is_timed_in_the_latency_histogram(make_user, add_document):
    from prometheus_client import REGISTRY

    ann = make_user("ann")
    add_document(ann, "Herons fish in shallow water.", title="Herons")

    def observed():
        return REGISTRY.get_sample_value("ragbase_search_latency_seconds_count", {"mode": "dense"}) or 0

    before = observed()
    search(user=ann, query="herons", mode="dense")
    assert observed() == before + 1


def test_fusion_options_reach_the_store_query(make_user, add_document, vector_index, monkeypatch, settings):
    """fusion and prefetch_limit are arguments of the search, defaulting to their settings."""
    ann = make_user("ann")
    add_document(ann, "Otters hold hands while they sleep.", title="Otters")
    asked = []
    query = vector_index.query
    monkeypatch.setattr(vector_index, "query", lambda **kwargs: asked.append(kwargs) or query(**kwargs))
    assert titles(search(user=ann, query="otters", fusion=Fusion.parse("dbsf"), prefetch_limit=30)) == ["Otters"]
    settings.SEARCH_FUSION = "rrf:5:1,0.5"
    search(user=ann, query="otters")
    assert [(str(a["fusion"]), a["prefetch_limit"]) for a in asked] == [
        ("dbsf", 30), ("rrf:5:1,0.5", settings.SEARCH_PREFETCH_LIMIT)]
