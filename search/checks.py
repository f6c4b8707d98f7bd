"""Search's configuration mistakes as Django system checks (`manage.py check`)."""
from django.conf import settings
from django.core.checks import Error, register

from chunks.vector_index import FUSION_SYNTAX, Fusion


@register()
def check_search_settings(app_configs, **kwargs):
    try:
        Fusion.parse(settings.SEARCH_FUSION)
    except ValueError as exc:
        return [Error(f"SEARCH_FUSION={settings.SEARCH_FUSION!r} is not a fusion: {exc}.",
                      hint=f"Use {FUSION_SYNTAX}.", id="search.E001")]
    return []
