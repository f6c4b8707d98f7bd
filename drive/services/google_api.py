"""Talking to Google: a Drive v3 service built from a user's refresh token, calls retried with
exponential backoff and jitter on 429 / 5xx / rate-limit 403 (honouring Retry-After) and on
network errors, and three outcomes a caller can act on:

- `GrantRevoked`: Google refused the refresh token (invalid_grant); only the user can fix it.
- `GoogleUnavailable`: Google could not be reached (DNS, refused connection, timeout, TLS, a token
  endpoint answering 5xx) or kept answering 5xx/429 after the retries: try again later.
- `OutOfTime`: the next retry would end after the running task's time bound (`time_bound`):
  hand the rest of the work on instead of sleeping past it.
"""
import contextvars
import http.client
import json
import logging
import random
import time
from contextlib import contextmanager

import httplib2
from django.conf import settings
from google.auth.exceptions import RefreshError, TransportError
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

logger = logging.getLogger(__name__)
sleep = time.sleep  # tests replace it to record the delays

RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
# What a call raises when the network, not Google's answer, failed: google-auth's TransportError
# (token refresh), httplib2's errors (DNS: ServerNotFoundError), and sockets (OSError covers
# refused connections, resets, timeouts and TLS errors).
NETWORK_ERRORS = (TransportError, httplib2.HttpLib2Error, http.client.HTTPException, OSError)

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("drive_call_deadline", default=None)


class GrantRevoked(Exception):
    """Google refused the refresh token (invalid_grant): only the user can fix it, by reconnecting."""


class GoogleUnavailable(Exception):
    """Google could not be reached, or kept failing, after the retries: retry the work later."""


class OutOfTime(Exception):
    """A retry would run past the task's time bound; the caller hands the work on."""


@contextmanager
def time_bound(deadline: float):
    """Calls made inside never sleep for a retry past `deadline` (a time.monotonic() value)."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def drive_service(refresh_token: str):
    credentials = Credentials(
        token=None, refresh_token=refresh_token, token_uri=settings.GOOGLE_TOKEN_URI,
        client_id=settings.GOOGLE_OAUTH_CLIENT_ID, client_secret=settings.GOOGLE_OAUTH_CLIENT_SECRET,
        scopes=settings.DRIVE_SCOPES,
    )
    # httplib2 waits forever by default: a Google that stops answering would hold the task past its bound.
    http = AuthorizedHttp(credentials, http=httplib2.Http(timeout=settings.DRIVE_HTTP_TIMEOUT_SECONDS))
    return build("drive", "v3", http=http, static_discovery=True, cache_discovery=False,
                 client_options={"api_endpoint": settings.GOOGLE_DRIVE_API_ROOT})


def error_reasons(error: HttpError) -> set[str]:
    """The `reason` values of a Google JSON error body (empty when the body is not one)."""
    try:
        return {e.get("reason") for e in json.loads(error.content)["error"].get("errors", [])}
    except (ValueError, KeyError, TypeError, AttributeError):
        return set()


def _is_retryable(error: HttpError) -> bool:
    status = error.resp.status
    if status == 429 or status >= 500:
        return True
    return status == 403 and bool(error_reasons(error) & RATE_LIMIT_REASONS)


def backoff_delay(attempt: int, retry_after: str | None) -> float:
    """Full jitter on an exponential ceiling, never shorter than the server's Retry-After."""
    ceiling = min(settings.DRIVE_BACKOFF_MAX_SECONDS, settings.DRIVE_BACKOFF_BASE_SECONDS * 2 ** attempt)
    delay = random.uniform(0, ceiling)
    try:
        delay = max(delay, float(retry_after)) if retry_after is not None else delay
    except ValueError:
        pass
    return delay


def describe(error: Exception) -> str:
    """A short, token-free description of a failed call for the user and the logs."""
    if isinstance(error, HttpError):
        return f"HTTP {error.resp.status}"
    return f"{type(error).__name__}: {error}"[:200]


def execute(request):
    """Run a googleapiclient request (or a zero-argument callable) with bounded retries."""
    run = request.execute if hasattr(request, "execute") else request
    for attempt in range(settings.DRIVE_MAX_RETRIES + 1):
        try:
            return run()
        except RefreshError as error:
            if getattr(error, "retryable", False):  # the token endpoint answered 5xx/429
                failure, retry_after = error, None
            else:
                raise GrantRevoked(str(error)) from None
        except HttpError as error:
            if not _is_retryable(error):
                raise
            if attempt == settings.DRIVE_MAX_RETRIES:
                raise
            failure, retry_after = error, error.resp.get("retry-after")
        except NETWORK_ERRORS as error:
            failure, retry_after = error, None
        if attempt == settings.DRIVE_MAX_RETRIES:
            raise GoogleUnavailable(describe(failure)) from failure
        delay = backoff_delay(attempt, retry_after)
        deadline = _deadline.get()
        if deadline is not None and time.monotonic() + delay + settings.DRIVE_HTTP_TIMEOUT_SECONDS > deadline:
            raise OutOfTime(describe(failure)) from failure
        logger.info("Drive call failed (%s); retrying in %.1fs", describe(failure), delay)
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
