from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from chunks.models import Document
from chunks.outbox.enqueue import delete_document
from chunks.selectors import filtered_documents, stored_upload_bytes
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
               "max_file_bytes": settings.INGEST_MAX_FILE_BYTES, "quota_bytes": settings.UPLOAD_QUOTA_BYTES,
               "stored_bytes": stored_upload_bytes(request.user)}
    return render(request, "chunks/documents.html", context, status=413 if refusal else 200)


@login_required
@require_POST
def delete_document_view(request, pk):
    document = get_object_or_404(Document, pk=pk, owner=request.user)
    delete_document(document=document)
    messages.success(request, f"Deleted “{document.title}”.")
    return redirect("chunks:documents")
