from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from chunks.selectors import library_counts
from drive.selectors import drive_status
from search.services import MAX_QUERY_CHARS


@login_required
def home(request):
    connection, progress = drive_status(request.user)
    context = {"counts": library_counts(request.user), "connection": connection, "progress": progress,
               "max_query_chars": MAX_QUERY_CHARS}
    return render(request, "home.html", context)


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a login while locked out (AXES_LOCKOUT_CALLABLE): 429 and a page
    that says for how long, on every login form."""
    from axes.helpers import get_client_username

    cool_off = settings.AXES_COOLOFF_TIME
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": get_client_username(request, credentials) or "",
        "cooloff_minutes": round(cool_off.total_seconds() / 60) if cool_off else None,
    }
    return render(request, "registration/locked_out.html", context, status=429)
