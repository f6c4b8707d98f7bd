"""Results grouped by document: each document once, ranked by its best chunk, with its best passage
and up to N more of its matching passages in rank order.

Grouping runs over one deeper fused candidate list (SEARCH_GROUP_DEPTH chunks) rather than through
Qdrant's query groups: qdrant-edge (the embedded engine) has no grouping, and Qdrant's groups API has
no offset, so page p would ask for p × page_size groups anyway. Over one list every page is a slice of
the same groups: page 2 never repeats a document of page 1, and pagination ends with the last
document whose best chunk is among the SEARCH_GROUP_DEPTH fused candidates."""
from dataclasses import dataclass, field


@dataclass
class DocumentResult:
    """One document of the results: `best` is its highest-ranked chunk hit, `more` its next ones."""

    best: object  # anything with a document_id: a SearchHit, or the store's ScoredId before rows are read
    more: list = field(default_factory=list)

    @property
    def passages(self) -> list:
        return [self.best, *self.more]


def group_by_document(hits: list, *, more_passages: int) -> list[DocumentResult]:
    """`hits` (in rank order) as documents in the order their first hit appears, each keeping at most
    `more_passages` further hits, in rank order."""
    groups: dict[int, DocumentResult] = {}
    for hit in hits:
        group = groups.get(hit.document_id)
        if group is None:
            groups[hit.document_id] = DocumentResult(best=hit)
        elif len(group.more) < more_passages:
            group.more.append(hit)
    return list(groups.values())
