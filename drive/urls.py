from django.urls import path

from drive import views

app_name = "drive"
urlpatterns = [
    path("drive/", views.drive_page, name="page"),
    path("drive/sync/", views.sync_now, name="sync"),
    path("drive/progress/", views.progress_json, name="progress"),
    path("drive/folders/", views.choose_folders, name="folders"),
    path("drive/disconnect/", views.disconnect_view, name="disconnect"),
]
