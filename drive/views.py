from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from chunks.models import Document
from drive.models import DriveConnection
from drive.services.connection import disconnect
from drive.tasks import request_sync


@login_required
def drive_page(request):
    connection = DriveConnection.objects.filter(user=request.user).first()
    failed = Document.objects.filter(owner=request.user, source="drive", state="failed").order_by("-updated_at")[:50]
    return render(request, "drive/drive.html", {"connection": connection, "failed_documents": failed})


@login_required
@require_POST
def sync_now(request):
    connection = DriveConnection.objects.filter(user=request.user, status=DriveConnection.Status.CONNECTED).first()
    if connection is None:
        messages.error(request, "Connect Google Drive first.")
    else:
        request_sync(connection)
        messages.success(request, "Sync started.")
    return redirect("drive:page")


@login_required
@require_POST
def choose_folders(request):
    connection = DriveConnection.objects.filter(user=request.user).first()
    if connection is not None:
        raw = request.POST.get("folder_ids", "")
        connection.folder_ids = [part.strip() for part in raw.replace(",", "\n").splitlines() if part.strip()]
        connection.include_shared_drives = request.POST.get("include_shared_drives") == "on"
        connection.changes_page_token = ""  # a new scope needs a full listing
        connection.save()
        messages.success(request, "Folders saved; the next sync lists them in full.")
    return redirect("drive:page")


@login_required
@require_POST
def disconnect_view(request):
    removed = disconnect(user=request.user)
    messages.success(request, f"Google Drive disconnected; {removed} document(s) removed.")
    return redirect("drive:page")
