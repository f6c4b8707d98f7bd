"""Where a passage sits: the heading path of Markdown and HTML sections is recorded per chunk, is
part of what is embedded (a passage knows its section) but not of the text shown, and appears in
the API and on the page as "Title › Section › Subsection · p. N", with `#page=N` links for PDFs."""
import pytest
from rest_framework.test import APIClient

from chunks.models import Chunk
from chunks.services.ingestion import stored_embedding_text
from chunks.tests.files import pdf_bytes

pytestmark = pytest.mark.django_db

# "Compiling" and "troubleshooting" appear only in headings, never in the sections' own text.
MARKDOWN = b"""# Installation

Read the requirements first.

## Compiling from source

Clone the repository and run make.

## Troubleshooting

If make stops, install the headers.
"""
HTML = (b"<html><body><nav>Home | Docs</nav><h1>Installation</h1><p>Read the requirements first.</p>"
        b"<h2>Compiling from source</h2><p>Clone the repository and run make.</p>"
        b"<h2>Troubleshooting</h2><p>If make stops, install the headers.</p></body></html>")


@pytest.fixture(params=[("text/markdown", MARKDOWN), ("text/html", HTML)], ids=["markdown", "html"])
def guide(request, make_user, add_document):
    mime_type, content = request.param
    ann = make_user("ann")
    add_document(ann, content, title="Build guide", mime_type=mime_type)
    return ann


def test_each_chunk_records_its_heading_path_embedded_but_not_displayed(guide):
    chunks = {c.text: c for c in Chunk.objects.filter(owner=guide)}
    clone = chunks["Clone the repository and run make."]
    assert clone.metadata["headings"] == ["Installation", "Compiling from source"]
    assert chunks["Read the requirements first."].metadata["headings"] == ["Installation"]
    assert stored_embedding_text(clone) == "Build guide › Installation › Compiling from source\n" + clone.text
    assert all("Compiling" not in text and "Troubleshooting" not in text for text in chunks)


def test_a_heading_word_finds_its_sections_passage_by_keyword(guide):
    """The passage is found by a word only its heading holds: the heading went into its vectors."""
    api = APIClient()
    api.force_authenticate(guide)
    body = api.get("/api/search/", {"q": "troubleshooting", "mode": "sparse"}).json()
    passage = body["results"][0]["passage"]
    assert passage["text"] == "If make stops, install the headers."
    assert passage["headings"] == ["Installation", "Troubleshooting"] and passage["link"] == ""
    chunks = api.get("/api/search/", {"q": "compiling", "mode": "sparse", "group": "none"}).json()
    assert chunks["results"][0]["headings"] == ["Installation", "Compiling from source"]


def test_the_page_shows_title_and_section_path(client, guide):
    client.force_login(guide)
    html = client.get("/search/", {"q": "troubleshooting", "mode": "sparse"}).content.decode()
    assert ('<h2 class="result-title" id="result-1">Build guide<span class="location"> › Installation › Troubleshooting'
            '</span></h2>') in html


def test_a_pdf_passage_links_to_its_page(client, make_user, add_document, settings):
    settings.CHUNK_SIZE_TOKENS, settings.CHUNK_OVERLAP_TOKENS = 8, 0  # a chunk per page
    ann = make_user("ann")
    add_document(ann, pdf_bytes(["Volcanoes erupt lava.", "Geysers spout hot water."]), title="Field notes",
                 mime_type="application/pdf", url="https://drive.example/file/d/F1/view")
    client.force_login(ann)
    html = client.get("/search/", {"q": "geysers", "mode": "sparse"}).content.decode()
    assert ('<a href="https://drive.example/file/d/F1/view">Field notes</a><span class="location"> · '
            '<a href="https://drive.example/file/d/F1/view#page=2">p. 2</a>') in html
