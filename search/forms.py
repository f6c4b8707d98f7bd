from django import forms

from chunks.models import Document
from chunks.vector_index import SearchMode


class SearchForm(forms.Form):
    q = forms.CharField(label="Search", max_length=1000)
    mode = forms.ChoiceField(choices=[(m.value, m.value) for m in SearchMode], initial="hybrid", required=False)
    source = forms.ChoiceField(choices=[("", "any source"), *Document.Source.choices], required=False)
    modified_after = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    top_k = forms.IntegerField(min_value=1, max_value=100, initial=10, required=False)


class AdminSearchForm(SearchForm):
    user = forms.ModelChoiceField(queryset=None, label="Search as user")

    def __init__(self, *args, **kwargs):
        from django.contrib.auth import get_user_model

        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = get_user_model().objects.order_by("username")
        self.order_fields(["user", "q"])
