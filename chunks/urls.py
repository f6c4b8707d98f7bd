from django.urls import path
from rest_framework.routers import SimpleRouter

from chunks import views
from chunks.api.views import DocumentViewSet

app_name = "chunks"
router = SimpleRouter()
router.register("api/documents", DocumentViewSet, basename="document")

urlpatterns = [
    path("documents/", views.documents_page, name="documents"),
    path("documents/actions/", views.document_actions, name="actions"),
    path("documents/delete/", views.delete_documents_view, name="delete"),
    *router.urls,
]
