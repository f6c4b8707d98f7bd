"""Search's configuration mistakes as Django system checks (`manage.py check`)."""
import os

from django.conf import settings
from django.core.checks import Error, Warning, register

from chunks.vector_index import FUSION_SYNTAX, Fusion


@register()
def check_search_settings(app_configs, **kwargs):
    problems = []
    try:
        Fusion.parse(settings.SEARCH_FUSION)
    except ValueError as exc:
        problems.append(Error(f"SEARCH_FUSION={settings.SEARCH_FUSION!r} is not a fusion: {exc}.",
                              hint=f"Use {FUSION_SYNTAX}.", id="search.E001"))
    # The setting SEARCH_FUSION replaced: an operator who had set it would otherwise be ignored silently.
    if os.environ.get("SEARCH_RRF_K"):
        problems.append(Warning(f"SEARCH_RRF_K={os.environ['SEARCH_RRF_K']} is no longer read.",
                                hint=f"Set SEARCH_FUSION=rrf:{os.environ['SEARCH_RRF_K']} instead.", id="search.W002"))
    return problems
