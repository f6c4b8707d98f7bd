import pytest

from chunks.chunking import chunk_text
from chunks.extraction import DOCX_TYPE, PDF_TYPE, ExtractionError, extract_text, guess_mime_type
from chunks.tests.files import docx_bytes, pdf_bytes, zip_bomb_docx


def text_of(content, mime):
    return "\n".join(s.text for s in extract_text(content, mime).sections)


def test_plain_markdown_and_odd_encodings():
    assert "naïve café" in text_of("naïve café".encode("utf-8"), "text/plain")
    [section] = extract_text(b"# Title\n\nBody", "text/markdown").sections
    assert section.headings == ("Title",) and section.text.strip() == "Body"  # the heading is its path
    latin1 = "Der Bär aß Käse und Brötchen, während die Sonne schien über München.".encode("latin-1")
    assert "Bär" in text_of(latin1, "text/plain")
    assert "hello" in text_of("hello".encode("utf-16"), "text/plain")


def test_html_drops_scripts_and_tags():
    text = text_of(b"<html><script>var x=1;</script><body><h1>Head</h1><p>Para <b>bold</b></p></body></html>", "text/html")
    assert "bold" in text and "var x" not in text and "<p>" not in text


def test_html_navigation_is_not_content():
    text = text_of(b"<body><nav><a href='/'>Home</a> <a href='/api'>API index</a></nav><p>Streams</p></body>", "text/html")
    assert "Streams" in text and "API index" not in text


REFERENCE_DEFINITIONS = (
    "[fs]: fs.md\n"
    "[`readline`]: #readline 'The readline module'\n"
    "  [files]: #example-read-file-stream-line-by-line\n"
    "[Node.js docs]: https://nodejs.org/api/ (Docs)\n"
    "<!-- generated: do not edit -->\n"
)


def test_markdown_link_reference_definitions_alone_make_no_chunk(embedder):
    extracted = extract_text(REFERENCE_DEFINITIONS.encode(), "text/markdown")
    assert chunk_text(extracted, tokenizer=embedder, size=50, overlap=0) == []


def test_markdown_keeps_content_and_code_blocks_without_reference_definitions():
    markdown = (
        "# Reading\n\nUse [readline][] on a [file stream][files].\n\n"
        "```md\n[kept]: #inside-a-code-block\n```\n\n" + REFERENCE_DEFINITIONS
    )
    text = text_of(markdown.encode(), "text/markdown")
    assert "Use [readline][] on a [file stream][files]." in text and "[kept]: #inside-a-code-block" in text
    assert "example-read-file" not in text and "fs.md" not in text and "nodejs.org" not in text and "<!--" not in text


def test_csv_rows_become_lines():
    assert "name | age\nann | 31" in text_of(b"name,age\nann,31\n", "text/csv")


def test_pdf_pages_keep_their_numbers():
    extracted = extract_text(pdf_bytes(["first page words", "second page words"]), PDF_TYPE)
    assert [(s.page, s.text.strip()) for s in extracted.sections] == [(1, "first page words"), (2, "second page words")]


def test_docx_paragraphs():
    assert "Quarterly report" in text_of(docx_bytes(["Quarterly report", "Revenue grew"]), DOCX_TYPE)


def test_mime_type_from_extension_when_declared_type_is_generic():
    assert guess_mime_type("notes.md", "application/octet-stream") == "text/markdown"
    assert guess_mime_type("a.pdf", "text/plain") == PDF_TYPE
    assert guess_mime_type("export", "text/csv; charset=utf-8") == "text/csv"


@pytest.mark.reliability
@pytest.mark.parametrize(
    "content, mime, message",
    [
        (b"", "text/plain", "empty"),
        (b"%PDF-1.4 garbage that is not a pdf", PDF_TYPE, "PDF could not be read"),
        (pdf_bytes(["secret"], password="pw"), PDF_TYPE, "encrypted"),
        (b"PK\x03\x04broken", DOCX_TYPE, "corrupt"),
        (zip_bomb_docx(200 * 1024 * 1024), DOCX_TYPE, "zip bomb"),
        (b"\x7fELF\x00\x00\x01\x02" * 100, "text/plain", "binary"),
        (b"\x00\x01", "application/x-msdownload", "not supported"),
    ],
)
def test_bad_input_is_a_readable_extraction_error(content, mime, message):
    with pytest.raises(ExtractionError, match=message):
        extract_text(content, mime)


@pytest.mark.reliability
def test_oversized_file_is_refused_before_parsing(settings):
    settings.INGEST_MAX_FILE_BYTES = 1000
    with pytest.raises(ExtractionError, match="over the limit"):
        extract_text(b"a" * 1001, "text/plain")


MARKDOWN_OUTLINE = """Intro before any heading.

# Install

Get it first.

## From source

Clone the repository.

```sh
# not a heading: a comment in a code block
make
```

### Tests ###

Run them.

## From packages

Use apt.

# Usage

Run it.
"""


def test_markdown_sections_carry_their_heading_path():
    sections = extract_text(MARKDOWN_OUTLINE.encode(), "text/markdown").sections
    assert [(s.headings, s.text.split()[0]) for s in sections] == [
        ((), "Intro"), (("Install",), "Get"), (("Install", "From source"), "Clone"),
        (("Install", "From source", "Tests"), "Run"), (("Install", "From packages"), "Use"), (("Usage",), "Run"),
    ]
    assert "# not a heading" in sections[2].text and "make" in sections[2].text
    assert not any("#" in h for s in sections for h in s.headings)


HTML_OUTLINE = b"""<html><head><title>Guide</title></head><body>
<nav><h2>Site menu</h2></nav>
<h1>Install</h1><p>Get it first.</p>
<section><h2>From <em>source</em></h2><p>Clone the repository.</p>
<h4>Tests</h4><p>Run them.</p></section>
<h2>From packages</h2><p>Use apt.</p>
<h1>Usage</h1><div><p>Run it.</p></div>
</body></html>"""


def test_html_sections_carry_their_heading_path():
    sections = extract_text(HTML_OUTLINE, "text/html").sections
    assert [(s.headings, s.text.split()[0]) for s in sections] == [
        ((), "Guide"), (("Install",), "Get"), (("Install", "From source"), "Clone"),
        (("Install", "From source", "Tests"), "Run"), (("Install", "From packages"), "Use"), (("Usage",), "Run"),
    ]


def test_docx_heading_styles_make_the_heading_path():
    content = docx_bytes(["Cover note.", (1, "Install"), "Get it first.", (2, "From source"), "Clone it.",
                          (1, "Usage"), "Run it."])
    sections = extract_text(content, DOCX_TYPE).sections
    assert [(s.headings, s.text.strip()) for s in sections] == [
        ((), "Cover note."), (("Install",), "Get it first."), (("Install", "From source"), "Clone it."),
        (("Usage",), "Run it."),
    ]


def test_a_chunk_keeps_to_one_heading_path(embedder):
    chunks = chunk_text(extract_text(MARKDOWN_OUTLINE.encode(), "text/markdown"), tokenizer=embedder, size=200,
                        overlap=20)
    assert [c.headings for c in chunks] == [
        (), ("Install",), ("Install", "From source"), ("Install", "From source", "Tests"),
        ("Install", "From packages"), ("Usage",),
    ]
    assert chunks[2].text.startswith("Clone the repository.") and "Get it first" not in chunks[2].text


SETEXT_OUTLINE = """---
title: Guide
layout: page
---
Install
=======

Get it first.

From source
-----------

Clone the
repository.

---

Still from source: a thematic break after a blank line is no heading.

- a list item
---

> a quote
---

| Option | Meaning |
| ------ | ------- |
| -v     | verbose |

Flag | Effect
--- | ---
-q | quiet
---

Two-line
title
===

Done.
"""


def test_markdown_setext_headings_make_the_heading_path():
    sections = extract_text(SETEXT_OUTLINE.encode(), "text/markdown").sections
    assert [s.headings for s in sections] == [(), ("Install",), ("Install", "From source"), ("Two-line title",)]
    front_matter, install, source, last = (s.text for s in sections)
    assert "title: Guide" in front_matter and "layout: page" in front_matter
    assert install.strip() == "Get it first."
    assert "Clone the\nrepository." in source and "Still from source" in source
    assert "a list item" in source and "a quote" in source and "| -v     | verbose |" in source
    assert "-q | quiet" in source
    assert last.strip() == "Done."


def test_setext_underline_inside_a_code_block_is_text():
    sections = extract_text(b"# Doc\n\n```\nnot a title\n===\n```\n", "text/markdown").sections
    assert [s.headings for s in sections] == [("Doc",)] and "not a title\n===" in sections[0].text


PAGE_WITH_FURNITURE = b"""<html><body>
<header role="banner"><a href="/">Acme docs</a> <form><input name="q"> Search</form></header>
<div role="navigation"><a href="/a">Previous page</a></div>
<aside class="sidebar"><h2>On this page</h2><a href="#x">Streams</a></aside>
<main>
<article><header><h1>Streams</h1><p>Updated today</p></header>
<p>A stream reads a file piece by piece.</p>
<aside><p>Note: streams are event emitters.</p></aside>
<pre><code>const rl = readline.createInterface({ input });</code></pre>
<footer>Written by the streams team</footer></article>
</main>
<footer><p>Copyright Acme</p></footer>
<div role="contentinfo">Privacy policy</div>
</body></html>"""


def test_html_page_furniture_is_not_content_but_the_article_is():
    sections = extract_text(PAGE_WITH_FURNITURE, "text/html").sections
    text = "\n".join(s.text for s in sections)
    for furniture in ("Acme docs", "Search", "Previous page", "On this page", "Copyright", "Privacy"):
        assert furniture not in text
    for content in ("Updated today", "piece by piece", "event emitters", "readline.createInterface",
                    "streams team"):
        assert content in text
    assert {s.headings for s in sections} == {("Streams",)}


# What Google Docs' HTML export looks like: one line, a span per formatting run, a class per style.
GOOGLE_DOCS_HTML = (
    b'<html><head><meta content="text/html; charset=UTF-8" http-equiv="content-type"><style type="text/css">'
    b'.c1{font-weight:700}</style></head><body class="c4 doc-content"><p class="c2 title" id="h.t">'
    b'<span class="c3">Field guide</span></p><h1 class="c5" id="h.a"><span class="c3">Herons</span></h1>'
    b'<p class="c2"><span class="c0">The heron nests by the </span><span class="c1">quiet</span>'
    b'<span class="c0">&nbsp;river. It is gr</span><span class="c1">ey</span><span class="c0">.</span></p>'
    b'<p class="c2"><span class="c0">A second paragraph.</span></p></body></html>'
)


def test_html_inline_runs_join_without_breaking_words_and_paragraphs_stay_apart(embedder):
    sections = extract_text(GOOGLE_DOCS_HTML, "text/html").sections
    assert [s.headings for s in sections] == [(), ("Herons",)]
    assert "font-weight" not in sections[0].text and sections[0].text.strip() == "Field guide"
    assert "by the quiet\xa0river. It is grey." in sections[1].text
    [chunk] = chunk_text(extract_text(GOOGLE_DOCS_HTML, "text/html"), tokenizer=embedder, size=200, overlap=0)[1:]
    assert chunk.text == "The heron nests by the quiet river. It is grey.\n\nA second paragraph."
