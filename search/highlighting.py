"""Which words of a text a query matched, and snippets with them marked. A word matches when the
sparse model makes the same term of it as of a query word (stemmed, stop words never), so "files"
in a query marks "file" and "will" or "be" mark nothing."""
import functools
import html
import re


@functools.lru_cache(maxsize=256)
def _candidates(terms: frozenset[str]) -> re.Pattern:
    # One regex finds the words that may stem to a query term (a stem is a word's start, give or
    # take its last letter: "happi" ← "happy"); only those reach the stemmer.
    prefixes = {t[:-1] if len(t) > 3 else t for t in terms}
    alternatives = "|".join(map(re.escape, sorted(prefixes, key=len, reverse=True)))
    return re.compile(rf"(?<!\w)(?:{alternatives})\w*", re.IGNORECASE)


class QueryTerms:
    """A query's terms as the sparse model sees them; `analyze` is Embedder.sparse_terms."""

    def __init__(self, query: str, analyze):
        self._analyze = analyze
        self.terms = frozenset(analyze(query))
        self._is_term: dict[str, bool] = {}
        self._last: tuple[str | None, list[re.Match]] = (None, [])

    def matches(self, text: str) -> list[re.Match]:
        """The words of text that match a query term, in order."""
        if not self.terms:
            return []
        # A hit's snippet and its matched words ask for the same text in turn: scan it once.
        if text is not self._last[0]:
            self._last = (text, [m for m in _candidates(self.terms).finditer(text) if self._matches(m.group().lower())])
        return self._last[1]

    def matched_words(self, text: str) -> list[str]:
        """The distinct words of text that matched (lower case), in order of appearance."""
        return list(dict.fromkeys(m.group().lower() for m in self.matches(text)))

    def _matches(self, word: str) -> bool:
        known = self._is_term.get(word)
        if known is None:
            stems = self._analyze(word)
            known = self._is_term[word] = bool(stems) and set(stems) <= self.terms
        return known


def highlight(text: str, terms: QueryTerms, *, width: int = 240) -> str:
    """An HTML-escaped excerpt of text around the first matched word, matched words in <mark>."""
    matches = terms.matches(text)
    start = max(0, matches[0].start() - width // 3) if matches else 0
    end = min(len(text), start + width)
    pieces, cursor = [], start
    for m in matches:
        if m.start() < start or m.end() > end:
            continue
        pieces += [html.escape(text[cursor : m.start()]), f"<mark>{html.escape(m.group())}</mark>"]
        cursor = m.end()
    pieces.append(html.escape(text[cursor:end]))
    return ("…" if start else "") + "".join(pieces) + ("…" if end < len(text) else "")
