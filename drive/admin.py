from django.contrib import admin, messages

from drive.models import DriveConnection
from drive.services.connection import revoke_grant
from drive.tasks import request_sync


@admin.register(DriveConnection)
class DriveConnectionAdmin(admin.ModelAdmin):
    list_display = ["user", "google_email", "status", "last_sync_at", "files_indexed", "files_failed", "credentials"]
    list_filter = ["status"]
    search_fields = ["user__username", "google_email"]
    fields = ["user", "google_email", "credentials", "status", "status_message", "folder_ids",
              "include_shared_drives", "changes_page_token", "last_sync_at", "files_indexed", "files_failed",
              "last_error"]
    readonly_fields = ["user", "credentials", "changes_page_token", "last_sync_at", "files_indexed", "files_failed",
                       "last_error"]
    actions = ["sync_now", "disable", "mark_for_reconnect", "revoke_at_google"]

    @admin.display(description="Credentials")
    def credentials(self, obj):
        # Never the token: only whether one is stored and under which key.
        return f"encrypted, key id {obj.key_id}" if obj.key_id else "none"

    @admin.action(description="Sync now")
    def sync_now(self, request, queryset):
        connections = list(queryset.filter(status=DriveConnection.Status.CONNECTED))
        for connection in connections:
            request_sync(connection)
        self.message_user(request, f"{len(connections)} sync(s) queued (only connected Drives sync).")

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
