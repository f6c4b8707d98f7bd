from django.core.checks import run_checks


def test_a_search_fusion_that_does_not_parse_is_a_check_error(settings):
    assert "search.E001" not in [m.id for m in run_checks()]
    settings.SEARCH_FUSION = "rrf:0"
    (error,) = [m for m in run_checks() if m.id == "search.E001"]
    assert "SEARCH_FUSION='rrf:0'" in error.msg and "rrf:K" in error.hint


def test_the_replaced_rrf_k_setting_is_named_not_ignored(monkeypatch):
    monkeypatch.setenv("SEARCH_RRF_K", "30")
    (warning,) = [m for m in run_checks() if m.id == "search.W002"]
    assert "SEARCH_FUSION=rrf:30" in warning.hint
    monkeypatch.delenv("SEARCH_RRF_K")
    assert "search.W002" not in [m.id for m in run_checks()]
