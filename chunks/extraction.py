"""Text out of a file's bytes, by mime type, with maintained parsers. Every failure is an
ExtractionError whose message a user can read; nothing here raises anything else for bad input."""
import csv
import io
import re
import zipfile
from dataclasses import dataclass, field

from django.conf import settings

MARKDOWN_TYPES = {"text/markdown", "text/x-markdown"}
PLAIN_TYPES = {"text/plain", "application/json"} | MARKDOWN_TYPES
HTML_TYPES = {"text/html", "application/xhtml+xml"}
CSV_TYPES = {"text/csv", "text/tab-separated-values"}
PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SUPPORTED_TYPES = PLAIN_TYPES | HTML_TYPES | CSV_TYPES | {PDF_TYPE, DOCX_TYPE}
EXTENSION_TYPES = {
    ".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown", ".html": "text/html",
    ".htm": "text/html", ".csv": "text/csv", ".tsv": "text/tab-separated-values", ".pdf": PDF_TYPE,
    ".docx": DOCX_TYPE, ".json": "application/json",
}
# A DOCX is a zip: refuse one whose members would inflate far beyond the file itself.
MAX_ZIP_EXPANSION_RATIO = 100


class ExtractionError(Exception):
    pass


@dataclass
class Section:
    """A run of text and where it came from: the page (PDFs), the headings above it, outermost
    first (Markdown, HTML, DOCX)."""

    text: str
    page: int | None = None
    headings: tuple[str, ...] = ()


@dataclass
class ExtractedText:
    sections: list[Section] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(s.text.strip() for s in self.sections)


def guess_mime_type(filename: str, declared: str = "") -> str:
    """The file's extension decides when it is a known one (browsers often declare text/plain
    or application/octet-stream); otherwise the declared type."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix in EXTENSION_TYPES:
        return EXTENSION_TYPES[suffix]
    return (declared or "").split(";")[0].strip().lower() or "application/octet-stream"


def extract_text(content: bytes, mime_type: str) -> ExtractedText:
    if not content:
        raise ExtractionError("the file is empty (0 bytes)")
    if len(content) > settings.INGEST_MAX_FILE_BYTES:
        raise ExtractionError(
            f"the file is {len(content):,} bytes, over the limit of {settings.INGEST_MAX_FILE_BYTES:,} "
            "(INGEST_MAX_FILE_BYTES)"
        )
    if mime_type == PDF_TYPE:
        result = _pdf(content)
    elif mime_type == DOCX_TYPE:
        result = _docx(content)
    elif mime_type in HTML_TYPES:
        result = ExtractedText(_html(decode_text(content)))
    elif mime_type in CSV_TYPES:
        result = ExtractedText([Section(_csv(decode_text(content), mime_type))])
    elif mime_type in MARKDOWN_TYPES:
        result = ExtractedText(_markdown(decode_text(content)))
    elif mime_type in PLAIN_TYPES or mime_type.startswith("text/"):
        result = ExtractedText([Section(decode_text(content))])
    else:
        raise ExtractionError(f"files of type {mime_type or 'unknown'} are not supported")
    total = sum(len(s.text) for s in result.sections)
    if total > settings.INGEST_MAX_TEXT_CHARS:
        raise ExtractionError(
            f"the file holds {total:,} characters of text, over the limit of "
            f"{settings.INGEST_MAX_TEXT_CHARS:,} (INGEST_MAX_TEXT_CHARS)"
        )
    return result


def decode_text(content: bytes) -> str:
    """Decode text of any common encoding; binary data is refused, not turned into noise."""
    if b"\x00" in content[:8192] and not content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ExtractionError("the file looks binary, not text")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(content).best()
    if best is None:
        raise ExtractionError("the file's text encoding could not be recognised (it may be binary)")
    return str(best)


# A link reference definition ("[name]: https://… 'title'" on a line of its own, CommonMark 4.7) and
# an HTML comment line say nothing to a reader: API references end with hundreds of the former,
# which became chunks of their own. Fenced code blocks are content and are kept as they are.
_LINK_REFERENCE = re.compile(r"""^ {0,3}\[[^\]\n]+\]:[ \t]*\S+(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$""")
_HTML_COMMENT_LINE = re.compile(r"^ {0,3}<!--.*-->[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_HTML_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]
_DOCX_HEADING_STYLE = re.compile(r"^Heading ([1-9])$")  # Word's built-in heading styles


class _Outline:
    """Cuts a document into sections at its headings: each section's text, under the path of the
    headings above it (a heading of level n replaces those of level n and deeper)."""

    def __init__(self, separator: str = "\n"):
        self.separator = separator  # between the pieces of text given (lines; HTML: text nodes)
        self.sections: list[Section] = []
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []

    def heading(self, level: int, title: str) -> None:
        self._flush()
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        if title:
            self._path.append((level, title))

    def text(self, line: str) -> None:
        self._lines.append(line)

    def done(self) -> list[Section]:
        self._flush()
        return self.sections or [Section("")]

    def _flush(self) -> None:
        if any(line.strip() for line in self._lines):
            self.sections.append(Section(self.separator.join(self._lines), headings=tuple(t for _, t in self._path)))
        self._lines = []


def _markdown(text: str) -> list[Section]:
    outline, paragraph = _Outline(), _SetextCandidate()
    lines, fence = text.splitlines(), None
    front_matter = _front_matter_length(lines)
    for line in lines[:front_matter]:
        outline.text(line)
    for line in lines[front_matter:]:
        opened = _FENCE.match(line)
        if fence is not None:
            if opened and opened.group(1).startswith(fence[0] * len(fence)):
                fence = None
            outline.text(line)
            continue
        heading = _ATX_HEADING.match(line)
        underline = _SETEXT_UNDERLINE.match(line)
        if underline:  # under a paragraph, a heading; else a thematic break, a block of its own
            if paragraph.lines:
                outline.heading(1 if underline.group(1) == "=" else 2, paragraph.title())
            else:
                paragraph.flush_to(outline)
                outline.text(line)
            paragraph.end()
            continue
        if opened or heading or not line.strip():
            paragraph.flush_to(outline)
        if opened:
            fence = opened.group(1)
        elif heading:
            outline.heading(len(heading.group(1)), heading.group(2).strip())
            continue
        elif _LINK_REFERENCE.match(line) or _HTML_COMMENT_LINE.match(line):
            continue
        elif line.strip():
            paragraph.add(line, outline)
            continue
        outline.text(line)
    paragraph.flush_to(outline)
    return outline.done()


# A setext heading is a paragraph underlined with = (level 1) or - (level 2). Only a paragraph: the
# same "---" after a blank line, a list item, a quote or a table row is a thematic break.
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=|-)\1*[ \t]*$")
_NOT_PARAGRAPH = re.compile(r"^(?: {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)| {0,3}[>|<]| {4}|\t)")
_TABLE_DELIMITER = re.compile(r"^[ \t|:-]*\|[ \t|:-]*$")


def _front_matter_length(lines: list[str]) -> int:
    """YAML front matter ("---" on the first line to the next "---" or "..."): its lines are text,
    never a setext heading's. 0 when the document has none."""
    if not lines or lines[0].rstrip() != "---":
        return 0
    for number, line in enumerate(lines[1:], 2):
        if line.rstrip() in ("---", "..."):
            return number
    return 0


class _SetextCandidate:
    """The lines of the paragraph being read, held back until it is known whether an underline
    makes them a heading. A run of lines that began as something else (a list item, a quote, a
    table, indented code) holds none until the next blank line."""

    def __init__(self):
        self.lines: list[str] = []
        self.other_block = False

    def add(self, line: str, outline: _Outline) -> None:
        # A table's delimiter row: the lines above were its header.
        if self.other_block or (not self.lines and _NOT_PARAGRAPH.match(line)) or _TABLE_DELIMITER.match(line):
            self.flush_to(outline)
            self.other_block = True
            outline.text(line)
        else:
            self.lines.append(line)

    def title(self) -> str:
        return " ".join(" ".join(line.split()) for line in self.lines)

    def flush_to(self, outline: _Outline) -> None:
        for line in self.lines:
            outline.text(line)
        self.end()

    def end(self) -> None:
        self.lines, self.other_block = [], False


# Page furniture: navigation, the site's banner and footer, sidebars. A <header> or <footer> inside
# an article, section or aside belongs to that content (HTML-AAM maps only page-level ones to the
# banner and contentinfo landmarks); an <aside> inside an article is a note on its text.
_BOILERPLATE_ROLES = {"navigation", "banner", "contentinfo", "complementary"}
_SCOPED_BOILERPLATE = {"header": ("article", "aside", "main", "nav", "section"),
                       "footer": ("article", "aside", "main", "nav", "section"), "aside": ("article",)}
# Elements that end a line of text: inline elements (Google Docs splits a paragraph into a span per
# formatting run) join without a break, so no word is cut in two.
_HTML_BREAKS = {"br": "\n", "tr": "\n", "td": " ", "th": " ", **dict.fromkeys(
    ["address", "article", "aside", "blockquote", "dd", "details", "div", "dl", "dt", "figcaption", "figure",
     "footer", "form", "header", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table", "ul"], "\n\n")}


def _is_boilerplate(tag) -> bool:
    if tag.name == "nav" or (tag.get("role") or "").strip().lower() in _BOILERPLATE_ROLES:
        return True
    scopes = _SCOPED_BOILERPLATE.get(tag.name)
    return scopes is not None and tag.find_parent(scopes) is None


def _html(text: str) -> list[Section]:
    from bs4 import BeautifulSoup, CData, NavigableString, Tag

    soup = BeautifulSoup(text, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all(_is_boilerplate):
        if not tag.decomposed:  # inside one removed already
            tag.decompose()
    for tag in soup.find_all(list(_HTML_BREAKS)):
        tag.insert_before(_HTML_BREAKS[tag.name])
        tag.insert_after(_HTML_BREAKS[tag.name])
    outline = _Outline(separator="")
    for element in soup.descendants:
        if isinstance(element, Tag) and element.name in _HTML_HEADINGS:
            outline.heading(int(element.name[1]), " ".join(element.get_text(" ").split()))
        elif type(element) in (NavigableString, CData) and element.find_parent(_HTML_HEADINGS) is None:
            outline.text(str(element))
    return outline.done()


def _csv(text: str, mime_type: str) -> str:
    delimiter = "\t" if mime_type == "text/tab-separated-values" else ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    return "\n".join(" | ".join(cell.strip() for cell in row if cell.strip()) for row in rows)


def _pdf(content: bytes) -> ExtractedText:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(content))
        if reader.is_encrypted:
            raise ExtractionError("the PDF is encrypted (password-protected); remove the password and upload it again")
        if len(reader.pages) > settings.INGEST_MAX_PDF_PAGES:
            raise ExtractionError(
                f"the PDF has {len(reader.pages):,} pages, over the limit of {settings.INGEST_MAX_PDF_PAGES:,} "
                "(INGEST_MAX_PDF_PAGES)"
            )
        return ExtractedText(
            [Section(page.extract_text() or "", page=number) for number, page in enumerate(reader.pages, 1)]
        )
    except ExtractionError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ExtractionError(f"the PDF could not be read (corrupt or unsupported): {exc}") from exc


def _docx(content: bytes) -> ExtractedText:
    import docx

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise ExtractionError("the DOCX file is corrupt (not a valid zip archive)") from exc
    if inflated > max(len(content) * MAX_ZIP_EXPANSION_RATIO, settings.INGEST_MAX_FILE_BYTES):
        raise ExtractionError(
            f"the DOCX would inflate to {inflated:,} bytes; refusing it as a possible zip bomb"
        )
    try:
        document = docx.Document(io.BytesIO(content))
    except Exception as exc:  # python-docx raises many types (KeyError, ValueError, lxml errors)
        raise ExtractionError(f"the DOCX file could not be read (corrupt or unsupported): {exc}") from exc
    outline = _Outline()
    for paragraph in document.paragraphs:
        heading = _DOCX_HEADING_STYLE.match(paragraph.style.name if paragraph.style is not None else "")
        if heading:
            outline.heading(int(heading.group(1)), " ".join(paragraph.text.split()))
        else:
            outline.text(paragraph.text)
    # python-docx lists tables apart from the paragraphs, so where one stood is not known: they
    # come last, under no heading (level 0 closes every open one).
    outline.heading(0, "")
    for table in document.tables:
        for row in table.rows:
            outline.text(" | ".join(cell.text.strip() for cell in row.cells if cell.text.strip()))
    return ExtractedText(outline.done())
