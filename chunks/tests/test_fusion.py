"""Fusion spellings: what SEARCH_FUSION, `evaluate --fusion` and the API's `fusion` accept."""
import pytest

from chunks.vector_index import Fusion, FusionMethod


@pytest.mark.parametrize("spelling, method, k, weights", [
    ("rrf:60", FusionMethod.RRF, 60, None),
    (" RRF:2 ", FusionMethod.RRF, 2, None),
    ("rrf:10:1,0.5", FusionMethod.RRF, 10, (1.0, 0.5)),
    ("dbsf", FusionMethod.DBSF, None, None),
])
def test_fusions_parse_and_print_back(spelling, method, k, weights):
    fusion = Fusion.parse(spelling)
    assert (fusion.method, fusion.k, fusion.weights) == (method, k, weights)
    assert Fusion.parse(str(fusion)) == fusion and str(fusion) == spelling.strip().lower()


@pytest.mark.parametrize("spelling, problem", [
    ("", "unknown fusion"), ("rrf", "unknown fusion"), ("rrf:", "fusion 'rrf:'"), ("rrf:0", "from 1 to"),
    ("rrf:60.5", "fusion"), ("rrf:10001", "from 1 to"), ("rrf:60:1", "two positive numbers"),
    ("rrf:60:1,0", "two positive numbers"), ("rrf:60:1,-2", "two positive numbers"),
    ("rrf:60:1,nan", "two positive numbers"),
    ("rrf:60:1,2,3", "two positive numbers"), ("dbsf:60", "unknown fusion"), ("sum", "unknown fusion"),
])
def test_a_bad_spelling_is_refused_naming_the_syntax(spelling, problem):
    with pytest.raises(ValueError, match=problem) as refused:
        Fusion.parse(spelling)
    assert "expected rrf:K" in str(refused.value)
