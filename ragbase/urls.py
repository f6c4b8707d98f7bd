from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from ragbase import views

urlpatterns = [
    path("", views.home, name="home"),
    # /healthz, /readyz and /metrics: ragbase.probes.ProbeMiddleware answers them.
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script from ?script, so the page has no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
         name="swagger-ui"),
    path("", include("chunks.urls")),
    path("", include("drive.urls")),
    # social-auth: /login/google-oauth2/ (connect) and /complete/google-oauth2/ (callback).
    path("", include("social_django.urls", namespace="social")),
    path("", include("search.urls")),
]
