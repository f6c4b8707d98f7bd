from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from drive.auth import NOT_CONFIGURED_MESSAGE, allow_connect_form, drive_is_configured
from drive.models import DriveConnection
from drive.selectors import drive_status, failed_drive_documents, sync_progress
from drive.services.connection import disconnect
from drive.services.folders import folders_for_picker
from drive.services.runs import active_run
from drive.services.runs import stop as stop_run
from drive.tasks import request_sync


@login_required
def drive_page(request):
    connection, progress = drive_status(request.user)
    failed = failed_drive_documents(request.user)
    context = {"connection": connection, "failed_documents": failed, "progress": progress,
               "drive_not_configured": "" if drive_is_configured() else NOT_CONFIGURED_MESSAGE}
    return allow_connect_form(render(request, "drive/drive.html", context))


@login_required
@require_GET
@never_cache
def progress_json(request):
    """The numbers of the page's progress section, for its script to refresh them."""
    connection = DriveConnection.objects.filter(user=request.user).first()
    if connection is None:
        return JsonResponse({"connected": False})
    return JsonResponse({"connected": True, **sync_progress(connection).as_json()})


@login_required
@require_POST
def sync_now(request):
    connection = DriveConnection.objects.filter(user=request.user, status=DriveConnection.Status.CONNECTED).first()
    if connection is None:
        messages.error(request, "Connect Google Drive first.")
        return redirect("drive:page")
    running = active_run(connection)
    request_sync(connection)
    if running is not None:
        messages.success(request, "A sync of your Drive is already running; it goes on (progress below).")
    else:
        messages.success(request, "Sync started.")
    return redirect("drive:page")


@login_required
@require_http_methods(["GET", "POST"])
def choose_folders(request):
    """The folder picker: the user's Drive folders as an indented list of checkboxes (GET), and
    saving a choice of them or the whole Drive (POST; only folders the listing returned)."""
    connection = DriveConnection.objects.filter(user=request.user).first()
    if connection is None:
        messages.error(request, "Connect Google Drive first.")
        return redirect("drive:page")
    if request.method == "POST":
        include_shared = request.POST.get("include_shared_drives") == "on"
        show_shared = include_shared
        selected = list(dict.fromkeys(request.POST.getlist("folder")))
        whole = request.POST.get("scope", "whole" if not selected else "folders") == "whole"
    else:
        include_shared = connection.include_shared_drives
        show_shared = include_shared or request.GET.get("shared") == "1"
        selected, whole = connection.folder_ids, not connection.folder_ids
    listing = folders_for_picker(connection, include_shared_drives=show_shared)
    error = ""
    if request.method == "POST" and listing.tree is not None:
        error = _folder_choice_error(listing.tree, selected, whole, include_shared)
        if not error:
            connection.folder_ids = [] if whole else selected
            connection.include_shared_drives = include_shared
            connection.changes_page_token = ""  # a new scope needs a full listing
            connection.save(update_fields=["folder_ids", "include_shared_drives", "changes_page_token", "updated_at"])
            running = active_run(connection)
            if running is not None:  # it lists the old choice, and would store its cursor at the end
                stop_run(running.pk, "The folder choice changed; the next sync lists the new choice.")
            chosen = "the whole Drive" if whole else f"{len(selected)} folder(s) and everything in them"
            messages.success(request, f"Saved: {chosen}. The next sync lists them in full.")
            return redirect("drive:page")
    tree = listing.tree
    context = {
        "connection": connection, "problem": listing.problem, "error": error, "whole": whole,
        "include_shared": include_shared, "show_shared": show_shared,
        "rows": tree.rows(selected) if tree else [],
        "missing": [folder_id for folder_id in selected if tree and folder_id not in tree.folders],
    }
    status = 400 if error else 200
    return allow_connect_form(render(request, "drive/folders.html", context, status=status))


def _folder_choice_error(tree, selected: list[str], whole: bool, include_shared: bool) -> str:
    unknown = [folder_id for folder_id in selected if folder_id not in tree.folders]
    if unknown:
        hint = "" if include_shared else " (a folder in a shared drive needs “Include shared drives”)"
        return f"Not a folder in your Google Drive{hint}: {', '.join(unknown)}. Nothing was saved."
    if not whole and not selected:
        return "Tick at least one folder, or choose the whole Drive. Nothing was saved."
    return ""


@login_required
@require_POST
def disconnect_view(request):
    removed = disconnect(user=request.user)
    messages.success(request, f"Google Drive disconnected; {removed} document(s) removed.")
    return redirect("drive:page")
