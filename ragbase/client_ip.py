"""The address a request came from, for login throttling: the connecting address, or, behind
TRUSTED_PROXY_COUNT reverse proxies, the address the outermost of them saw. Entries further left
in X-Forwarded-For were written by the client and are never trusted."""
from django.conf import settings


def client_ip(request) -> str:
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if proxies > 0 and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
