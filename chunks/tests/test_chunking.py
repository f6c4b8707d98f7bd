from chunks.chunking import chunk_text
from chunks.extraction import ExtractedText, Section


def test_chunks_respect_the_token_budget_and_overlap(embedder):
    sentences = [f"Sentence number {i} talks about topic {i} in some detail." for i in range(60)]
    chunks = chunk_text(ExtractedText([Section(" ".join(sentences))]), tokenizer=embedder, size=50, overlap=15)
    assert len(chunks) > 5
    assert all(embedder.count_tokens(c.text) <= 50 for c in chunks)
    # Every sentence survives, and consecutive chunks share their boundary sentence.
    assert all(any(s in c.text for c in chunks) for s in sentences)
    for previous, following in zip(chunks, chunks[1:]):
        last_sentence = previous.text.split(". ")[-1]
        assert last_sentence.rstrip(".") in following.text


def test_chunks_cut_at_sentence_boundaries(embedder):
    text = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota."
    chunks = chunk_text(ExtractedText([Section(text)]), tokenizer=embedder, size=5, overlap=0)
    assert [c.text for c in chunks] == ["Alpha beta gamma.", "Delta epsilon zeta.", "Eta theta iota."]


def test_a_very_long_sentence_is_cut_by_tokens(embedder):
    text = " ".join(f"word{i}" for i in range(400))
    chunks = chunk_text(ExtractedText([Section(text)]), tokenizer=embedder, size=64, overlap=0)
    assert len(chunks) > 1 and all(embedder.count_tokens(c.text) <= 64 for c in chunks)


def test_pages_are_kept_and_empty_text_gives_no_chunks(embedder):
    extracted = ExtractedText([Section("page one text.", page=1), Section("page two text.", page=2)])
    assert [c.page for c in chunk_text(extracted, tokenizer=embedder, size=4, overlap=0)] == [1, 2]
    assert chunk_text(ExtractedText([Section("  \n\n ")]), tokenizer=embedder, size=50, overlap=10) == []
