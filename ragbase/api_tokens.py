"""API tokens: django-rest-knox keeps only a SHA-512 digest of each token (and its first
characters as a lookup id), with an expiry. The token itself exists once, in the answer to
whoever created it; a database dump holds no working credential."""
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.models import AuthToken
from knox.settings import CONSTANTS
from knox.signals import token_expired


def default_expiry():
    """When a token made now expires by default (API_TOKEN_TTL_DAYS); None: never."""
    lifetime = settings.REST_KNOX["TOKEN_TTL"]
    return timezone.now() + lifetime if lifetime else None


def create_api_token(*, user, lifetime: timedelta | None = None) -> tuple[AuthToken, str]:
    """A new token for `user`: the stored row and the token (to show once, never to store). The
    user's expired tokens are deleted here rather than on every request (see TokenAuthentication)."""
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()
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


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token authentication without its per-request sweep: knox reads every token of the
    user on each request to delete the expired ones (a second query on every API call). Here an
    expired token is refused (and deleted) when it is presented, and the user's other expired
    tokens go when a new token is created for them (they cannot authenticate meanwhile)."""

    def _cleanup_token(self, auth_token) -> bool:
        if not is_expired(auth_token):
            return False
        username = auth_token.user.get_username()
        auth_token.delete()
        token_expired.send(sender=self.__class__, username=username, source="auth_token")
        return True
