"""API tokens: django-rest-knox keeps only a SHA-512 digest of each token (and its first
characters as a lookup id), with an expiry. The token itself exists once, in the answer to
whoever created it; a database dump holds no working credential."""
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from knox.models import AuthToken
from knox.settings import CONSTANTS


def default_expiry():
    """When a token made now expires by default (API_TOKEN_TTL_DAYS); None: never."""
    lifetime = settings.REST_KNOX["TOKEN_TTL"]
    return timezone.now() + lifetime if lifetime else None


def create_api_token(*, user, lifetime: timedelta | None = None) -> tuple[AuthToken, str]:
    """A new token for `user`: the stored row and the token (to show once, never to store)."""
    return AuthToken.objects.create(user=user, expiry=lifetime or settings.REST_KNOX["TOKEN_TTL"])


def token_id(token: str) -> str:
    """The public part of a token stored beside its digest (how the admin and commands name it)."""
    return token[:CONSTANTS.TOKEN_KEY_LENGTH]


def revoke_api_tokens(*, user, token_key: str = "") -> int:
    """Delete the user's tokens (all of them, or the one whose id is `token_key`); returns how many."""
    tokens = AuthToken.objects.filter(user=user)
    if token_key:
        tokens = tokens.filter(token_key=token_key)
    return tokens.delete()[0]


def is_expired(token: AuthToken) -> bool:
    return token.expiry is not None and token.expiry <= timezone.now()
