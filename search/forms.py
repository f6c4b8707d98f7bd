from django import forms
from django.contrib.auth import get_user_model

from chunks.extraction import CSV_TYPES, DOCX_TYPE, HTML_TYPES, MARKDOWN_TYPES, PDF_TYPE
from chunks.models import Document
from chunks.vector_index import SearchMode
from search.services import DEFAULT_MODE, MAX_QUERY_CHARS, MAX_TOP_K, default_top_k


# The search page's "Type" filter: each choice stands for the mime types of that kind of file
# (Google Docs and Slides are indexed as their text export, Sheets as CSV).
DOCUMENT_TYPES = {
    "pdf": ("PDF", [PDF_TYPE]),
    "docx": ("Word (DOCX)", [DOCX_TYPE]),
    "markdown": ("Markdown", sorted(MARKDOWN_TYPES)),
    "html": ("HTML", sorted(HTML_TYPES)),
    "text": ("Plain text, Google Docs and Slides", ["text/plain"]),
    "csv": ("Spreadsheet (CSV), Google Sheets", sorted(CSV_TYPES)),
}


class SearchForm(forms.Form):
    q = forms.CharField(label="Search for", max_length=MAX_QUERY_CHARS, widget=forms.TextInput(attrs={"type": "search"}))
    mode = forms.ChoiceField(label="Match by", choices=[(m.value, m.value) for m in SearchMode],
                             initial=DEFAULT_MODE.value, required=False)
    source = forms.ChoiceField(choices=[("", "any source"), *Document.Source.choices], required=False)
    type = forms.ChoiceField(choices=[("", "any type"), *((key, label) for key, (label, _) in DOCUMENT_TYPES.items())],
                             required=False)
    modified_after = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    top_k = forms.IntegerField(
        label="Results per page", min_value=1, max_value=MAX_TOP_K, initial=default_top_k, required=False
    )

    def mime_types(self) -> list[str] | None:
        """The mime types the chosen type stands for (None: any). On a valid form."""
        chosen = self.cleaned_data.get("type")
        return DOCUMENT_TYPES[chosen][1] if chosen else None

    def active_filters(self) -> list[str]:
        """The filters in force, as the results' summary names them. On a valid form."""
        data = self.cleaned_data
        named = [dict(self.fields[name].choices)[data[name]] for name in ("source", "type") if data.get(name)]
        if data.get("modified_after"):
            named.append(f"modified after {data['modified_after']:%Y-%m-%d}")
        return named


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
