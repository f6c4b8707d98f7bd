from django import forms
from django.contrib.auth import get_user_model

from chunks.models import Document
from chunks.vector_index import SearchMode
from search.services import DEFAULT_MODE, MAX_QUERY_CHARS, MAX_TOP_K, default_top_k


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", max_length=MAX_QUERY_CHARS)
    mode = forms.ChoiceField(choices=[(m.value, m.value) for m in SearchMode], initial=DEFAULT_MODE.value, required=False)
    source = forms.ChoiceField(choices=[("", "any source"), *Document.Source.choices], required=False)
    modified_after = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    top_k = forms.IntegerField(
        label="Results per page", min_value=1, max_value=MAX_TOP_K, initial=default_top_k, required=False
    )


class PageForm(forms.Form):
    """The results page asked for (the pages' links carry it; a new search starts at page 1)."""

    page = forms.IntegerField(min_value=1, required=False)

    @classmethod
    def page_of(cls, request) -> int:
        form = cls(request.GET)
        return (form.cleaned_data["page"] if form.is_valid() else None) or 1


class AdminSearchForm(SearchForm):
    user = forms.ModelChoiceField(queryset=None, label="Search as user")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.order_by("username")
        self.order_fields(["user", "q"])
