from django.contrib import admin, messages

from drive.models import DriveConnection, ProcessingLane, SyncRun
from drive.selectors import sync_progress
from drive.services.connection import revoke_grant
from drive.tasks import request_sync


def _progress_line(progress) -> str:
    line = (f"{progress.phase_label}: {progress.found} found, {progress.done} done, {progress.failed} failed, "
            f"{progress.queued} waiting, {progress.in_progress} in progress; "
            f"{progress.chunks_waiting} chunks not yet searchable")
    if progress.eta_text:
        line += f"; {progress.eta_text} left"
    return line + (f" — {progress.notice}" if progress.notice else "")


@admin.register(DriveConnection)
class DriveConnectionAdmin(admin.ModelAdmin):
    list_display = ["user", "google_email", "status", "sync", "last_sync_at", "files_indexed", "files_failed",
                    "credentials"]
    list_filter = ["status"]
    search_fields = ["user__username", "google_email"]
    fields = ["user", "google_email", "credentials", "status", "status_message", "folder_ids",
              "include_shared_drives", "sync_progress", "changes_page_token", "last_sync_at", "files_indexed",
              "files_failed", "last_error"]
    readonly_fields = ["user", "credentials", "sync_progress", "changes_page_token", "last_sync_at", "files_indexed",
                       "files_failed", "last_error"]
    actions = ["sync_now", "disable", "mark_for_reconnect", "revoke_at_google"]

    @admin.display(description="Credentials")
    def credentials(self, obj):
        # Never the token: only whether one is stored and under which key.
        return f"encrypted, key id {obj.key_id}" if obj.key_id else "none"

    @admin.display(description="Sync")
    def sync(self, obj):
        progress = sync_progress(obj)
        if not progress.active:
            return progress.phase_label
        return f"{progress.phase_label} ({progress.done + progress.failed}/{progress.found})"

    @admin.display(description="Current sync")
    def sync_progress(self, obj):
        return _progress_line(sync_progress(obj)) if obj.pk else "—"

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset):
        connections = list(queryset.filter(status=DriveConnection.Status.CONNECTED))
        for connection in connections:
            request_sync(connection)
        self.message_user(request, f"{len(connections)} sync(s) started or joined (only connected Drives sync).")

    @admin.action(description="Disable")
    def disable(self, request, queryset):
        count = queryset.update(status=DriveConnection.Status.DISABLED, status_message="Disabled by an administrator.")
        self.message_user(request, f"{count} connection(s) disabled.", messages.WARNING)

    @admin.action(description="Mark for reconnect")
    def mark_for_reconnect(self, request, queryset):
        count = queryset.update(status=DriveConnection.Status.NEEDS_RECONNECT,
                                status_message="An administrator asked you to reconnect Google Drive.")
        self.message_user(request, f"{count} connection(s) marked for reconnect.")

    @admin.action(description="Revoke at Google (the user must reconnect)")
    def revoke_at_google(self, request, queryset):
        connections = list(queryset)
        confirmed = sum(revoke_grant(connection=connection) for connection in connections)
        self.message_user(request, f"{len(connections)} grant(s) revoked and forgotten "
                                   f"({confirmed} confirmed by Google); their users must reconnect.")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """Every sync run: its phase, where its listing stands and its report. Read-only."""

    list_display = ["id", "connection", "kind", "phase", "started_at", "heartbeat_at", "finished_at", "pages_listed",
                    "listing_done", "listing_complete"]
    list_filter = ["phase", "kind"]
    search_fields = ["connection__user__username", "connection__google_email"]
    readonly_fields = [f.name for f in SyncRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ProcessingLane)
class ProcessingLaneAdmin(admin.ModelAdmin):
    """The processing tasks that may run at once (DRIVE_PROCESSING_TASKS) and their last sign of life."""

    list_display = ["number", "ticket", "heartbeat_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
