from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ragbase import views

urlpatterns = [
    path("", views.home, name="home"),
    # /healthz, /readyz and /metrics: ragbase.probes.ProbeMiddleware answers them.
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("chunks.urls")),
    path("", include("drive.urls")),
    # social-auth: /login/google-oauth2/ (connect) and /complete/google-oauth2/ (callback).
    path("", include("social_django.urls", namespace="social")),
    path("", include("search.urls")),
]
