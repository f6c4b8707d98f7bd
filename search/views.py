from datetime import datetime, time, timezone

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from chunks.vector_index import VectorStoreUnavailable
from search.forms import AdminSearchForm, PageForm, SearchForm
from search.services import DEFAULT_MODE, SearchFilters, search_documents


def _run(form, user, page):
    """(result, error) for a bound, valid form."""
    data = form.cleaned_data
    after = data.get("modified_after")
    try:
        result = search_documents(
            user=user,
            query=data["q"],
            mode=data.get("mode") or DEFAULT_MODE,
            page=page,
            page_size=data.get("top_k"),
            filters=SearchFilters(
                sources=[data["source"]] if data.get("source") else None,
                mime_types=form.mime_types(),
                modified_after=datetime.combine(after, time.min, tzinfo=timezone.utc) if after else None,
            ),
        )
    except VectorStoreUnavailable:
        return None, "Search is temporarily unavailable (the vector store cannot be reached). Try again shortly."
    return result, ""


@login_required
def search_page(request):
    form = SearchForm(request.GET or None)
    result, error = _run(form, request.user, PageForm.page_of(request)) if form.is_valid() else (None, "")
    filters = form.active_filters() if result else []
    return render(request, "search/search.html", {"form": form, "result": result, "error": error, "filters": filters})


@staff_member_required
def admin_search_as_user(request):
    form = AdminSearchForm(request.GET or None)
    result, error = _run(form, form.cleaned_data["user"], PageForm.page_of(request)) if form.is_valid() else (None, "")
    return render(
        request,
        "search/admin_search.html",
        {"form": form, "result": result, "error": error, "filters": form.active_filters() if result else [],
         "title": "Test search as a user"},
    )
