"""Talking to Google: a Drive v3 service built from a user's refresh token, calls retried with
exponential backoff and jitter on 429 / 5xx / rate-limit 403 (honouring Retry-After), and the
distinction between "retry later" and "the grant is gone, reconnect"."""
import json
import logging
import random
import time

from django.conf import settings
from google.auth.exceptions import RefreshError
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

logger = logging.getLogger(__name__)
sleep = time.sleep  # tests replace it to record the delays

RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}


class GrantRevoked(Exception):
    """Google refused the refresh token (invalid_grant): only the user can fix it, by reconnecting."""


def drive_service(refresh_token: str):
    credentials = Credentials(
        token=None, refresh_token=refresh_token, token_uri=settings.GOOGLE_TOKEN_URI,
        client_id=settings.GOOGLE_OAUTH_CLIENT_ID, client_secret=settings.GOOGLE_OAUTH_CLIENT_SECRET,
        scopes=settings.DRIVE_SCOPES,
    )
    return build("drive", "v3", credentials=credentials, static_discovery=True, cache_discovery=False,
                 client_options={"api_endpoint": settings.GOOGLE_DRIVE_API_ROOT})


def _is_retryable(error: HttpError) -> bool:
    status = error.resp.status
    if status == 429 or status >= 500:
        return True
    if status == 403:
        try:
            reasons = {e.get("reason") for e in json.loads(error.content)["error"].get("errors", [])}
        except (ValueError, KeyError, TypeError, AttributeError):
            return False
        return bool(reasons & RATE_LIMIT_REASONS)
    return False


def backoff_delay(attempt: int, retry_after: str | None) -> float:
    """Full jitter on an exponential ceiling, never shorter than the server's Retry-After."""
    ceiling = min(settings.DRIVE_BACKOFF_MAX_SECONDS, settings.DRIVE_BACKOFF_BASE_SECONDS * 2 ** attempt)
    delay = random.uniform(0, ceiling)
    try:
        delay = max(delay, float(retry_after)) if retry_after is not None else delay
    except ValueError:
        pass
    return delay


def execute(request):
    """Run a googleapiclient request (or a zero-argument callable) with bounded retries."""
    run = request.execute if hasattr(request, "execute") else request
    for attempt in range(settings.DRIVE_MAX_RETRIES + 1):
        try:
            return run()
        except RefreshError as error:
            raise GrantRevoked(str(error)) from None
        except HttpError as error:
            if not _is_retryable(error) or attempt == settings.DRIVE_MAX_RETRIES:
                raise
            delay = backoff_delay(attempt, error.resp.get("retry-after"))
            logger.info("Drive call got HTTP %s; retrying in %.1fs", error.resp.status, delay)
            sleep(delay)


def pages(list_method, **kwargs):
    """Every page of a Drive list call (files.list, drives.list), following nextPageToken."""
    page_token = None
    while True:
        page = execute(list_method(pageToken=page_token, **kwargs))
        yield page
        page_token = page.get("nextPageToken")
        if not page_token:
            return


def all_drives_kwargs(include_shared_drives: bool) -> dict:
    """files.list arguments that add the shared drives' items (when the user chose them)."""
    if not include_shared_drives:
        return {}
    return {"supportsAllDrives": True, "includeItemsFromAllDrives": True, "corpora": "allDrives"}
