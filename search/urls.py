from django.urls import path

from search import views
from search.api.views import SearchView

app_name = "search"
urlpatterns = [
    path("search/", views.search_page, name="page"),
    path("api/search/", SearchView.as_view(), name="api"),
    path("admin-tools/search-as-user/", views.admin_search_as_user, name="admin_search"),
]
