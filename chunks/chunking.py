"""Split extracted text into chunks of at most `size` tokens of the embedding model's tokenizer,
with `overlap` tokens carried over, cutting at paragraph and sentence boundaries where possible.
A chunk stays under one heading path: a new section heading starts a new chunk."""
import re
from dataclasses import dataclass

from chunks.embedding import Embedder
from chunks.extraction import ExtractedText

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[]?[A-Z0-9])")
_SPACES = re.compile(r"[ \t\f\v\xa0]+")  # no-break spaces too (Google Docs writes many)


@dataclass
class TextChunk:
    text: str
    page: int | None
    page_end: int | None
    headings: tuple[str, ...] = ()


@dataclass
class _Unit:
    text: str
    tokens: int
    page: int | None
    paragraph_start: bool
    headings: tuple[str, ...] = ()


def chunk_text(extracted: ExtractedText, *, tokenizer: Embedder, size: int, overlap: int) -> list[TextChunk]:
    """`tokenizer`: the embedder, whose tokenize(text) gives each token's character offsets."""
    if overlap >= size:
        raise ValueError("chunk overlap must be smaller than the chunk size")
    units = list(_units(extracted, tokenizer=tokenizer, size=size))
    chunks: list[TextChunk] = []
    current: list[_Unit] = []
    current_tokens = 0
    for unit in units:
        if current and unit.headings != current[0].headings:
            chunks.append(_join(current))
            current, current_tokens = [], 0
        elif current and current_tokens + unit.tokens > size:
            chunks.append(_join(current))
            current = _overlap_tail(current, overlap, room=size - unit.tokens)
            current_tokens = sum(u.tokens for u in current)
        current.append(unit)
        current_tokens += unit.tokens
    if current:
        chunks.append(_join(current))
    return chunks


def _units(extracted, *, tokenizer, size):
    for section in extracted.sections:
        for paragraph in _PARAGRAPH_BREAK.split(section.text):
            paragraph = _SPACES.sub(" ", paragraph).strip()
            if not paragraph:
                continue
            first = True
            for sentence in _SENTENCE_END.split(paragraph):
                sentence = sentence.strip()
                if not sentence:
                    continue
                offsets = tokenizer.tokenize(sentence)
                # A sentence longer than a chunk is cut at token boundaries.
                for start in range(0, max(len(offsets), 1), size):
                    piece = offsets[start : start + size]
                    text = sentence[piece[0][0] : piece[-1][1]] if piece else sentence
                    yield _Unit(text=text, tokens=len(piece), page=section.page, paragraph_start=first,
                                headings=section.headings)
                    first = False


def _overlap_tail(units, overlap, room):
    tail: list[_Unit] = []
    tokens = 0
    for unit in reversed(units):
        if tokens + unit.tokens > min(overlap, room):
            break
        tail.insert(0, unit)
        tokens += unit.tokens
    return tail


def _join(units) -> TextChunk:
    text = ""
    for unit in units:
        if text:
            text += "\n\n" if unit.paragraph_start else " "
        text += unit.text
    return TextChunk(text=text, page=units[0].page, page_end=units[-1].page, headings=units[0].headings)
