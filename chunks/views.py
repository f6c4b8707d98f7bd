from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from chunks.models import Document
from chunks.outbox.enqueue import delete_documents
from chunks.selectors import failed_documents, filtered_documents, stored_upload_bytes
from chunks.services.reingestion import reingest_failed
from chunks.uploads import queue_upload, upload_refusal


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(d, initial) for d in data]
        return [super().clean(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(label="Files (text, Markdown, HTML, PDF, DOCX, CSV)")


class DocumentFilterForm(forms.Form):
    """The documents page's filters (the same as GET /api/documents/)."""

    q = forms.CharField(label="Title contains", max_length=200, required=False)
    state = forms.ChoiceField(label="State", choices=[("", "any state"), *Document.State.choices], required=False)
    source = forms.ChoiceField(label="Source", choices=[("", "any source"), *Document.Source.choices], required=False)


class DocumentChoiceForm(forms.Form):
    """Documents chosen on the documents page: only the user's own (any other id refuses the form)."""

    documents = forms.ModelMultipleChoiceField(queryset=Document.objects.none())

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = Document.objects.filter(owner=owner)


class DocumentActionForm(DocumentChoiceForm):
    """The documents page's bulk actions; "reingest_all" needs no choice."""

    action = forms.ChoiceField(choices=[("delete", "Delete"), ("reingest", "Re-ingest failed"),
                                        ("reingest_all", "Re-ingest every failed document")])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["documents"].required = self.data.get("action") != "reingest_all"


DOCUMENTS_PER_PAGE = 25


@login_required
def documents_page(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    refusal = upload_refusal(request) if request.method == "POST" else ""
    if refusal:
        form = UploadForm()
    elif request.method == "POST" and form.is_valid():
        documents = [queue_upload(owner=request.user, uploaded_file=f) for f in form.cleaned_data["files"]]
        messages.success(request, f"{len(documents)} file(s) queued for indexing.")
        return redirect("chunks:documents")
    filters = DocumentFilterForm(request.GET)
    wanted = filters.cleaned_data if filters.is_valid() else {}
    documents = filtered_documents(request.user, state=wanted.get("state"), source=wanted.get("source"),
                                   title=wanted.get("q"))
    page = Paginator(documents, DOCUMENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"form": form, "upload_refusal": refusal, "filters": filters, "page": page,
               "failed_total": failed_documents(Document.objects.filter(owner=request.user)).count(),
               "max_file_bytes": settings.INGEST_MAX_FILE_BYTES, "quota_bytes": settings.UPLOAD_QUOTA_BYTES,
               "stored_bytes": stored_upload_bytes(request.user)}
    return render(request, "chunks/documents.html", context, status=413 if refusal else 200)


@login_required
@require_POST
def document_actions(request):
    """The bulk form: re-ingest at once; delete after a confirmation page (delete_documents_view)."""
    form = DocumentActionForm(request.POST, owner=request.user)
    if not form.is_valid():
        messages.error(request, _refusal(form))
        return redirect("chunks:documents")
    chosen = form.cleaned_data["documents"]
    action = form.cleaned_data["action"]
    if action == "delete":
        query = "&".join(f"documents={document.pk}" for document in chosen)
        return redirect(f"{reverse('chunks:delete')}?{query}")
    everything = Document.objects.filter(owner=request.user)
    report = reingest_failed(owner=request.user, documents=everything if action == "reingest_all" else
                             everything.filter(pk__in=[document.pk for document in chosen]))
    messages.success(request, report.summary())
    return redirect("chunks:documents")


@login_required
def delete_documents_view(request):
    """GET: which documents would go, and a button that confirms; POST: delete them."""
    form = DocumentChoiceForm(request.POST if request.method == "POST" else request.GET, owner=request.user)
    if not form.is_valid():
        messages.error(request, _refusal(form))
        return redirect("chunks:documents")
    chosen = form.cleaned_data["documents"]
    if request.method != "POST":
        return render(request, "chunks/confirm_delete.html", {"documents": chosen})
    deleted = delete_documents(documents=Document.objects.filter(pk__in=[document.pk for document in chosen]))
    messages.success(request, f"Deleted {deleted} document{'s' if deleted != 1 else ''}.")
    return redirect("chunks:documents")


def _refusal(form) -> str:
    if "documents" in form.errors and form.data.get("documents"):
        return "Nothing was changed: some of the chosen documents are not yours or no longer exist."
    if "documents" in form.errors:
        return "Nothing was changed: choose at least one document first."
    return "Nothing was changed: " + " ".join(str(e) for errors in form.errors.values() for e in errors)
