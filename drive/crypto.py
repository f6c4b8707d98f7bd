"""AES-256-GCM sealing of stored secrets (cryptography's AESGCM, never hand-rolled).

Every seal uses a fresh random 96-bit nonce. The caller's associated data (e.g. the owner id)
is authenticated, so a ciphertext copied to another row does not open. Each sealed value
records the id of its key so keys can rotate: APP_ENCRYPTION_KEY seals, retired keys only open.
Opening fails closed: any tampering, truncation, wrong row or unknown key raises DecryptionError."""
import hashlib
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_BYTES = 12
TAG_BYTES = 16


class DecryptionError(Exception):
    """A stored secret cannot be opened (tampered, truncated, wrong row, or its key is gone)."""


@dataclass(frozen=True)
class Sealed:
    ciphertext: bytes
    iv: bytes
    tag: bytes
    key_id: str


def key_id_of(key: bytes) -> str:
    """A public, stable name for a key: the first 8 hex digits of its sha256."""
    return hashlib.sha256(key).hexdigest()[:8]


def current_key() -> bytes:
    return settings.APP_ENCRYPTION_KEY


def known_keys() -> dict[str, bytes]:
    """Every key that may open a value, by key id (the current key and the retired ones)."""
    keys = {key_id_of(key): key for key in settings.APP_ENCRYPTION_RETIRED_KEYS}
    keys[key_id_of(current_key())] = current_key()
    return keys


def seal(plaintext: str, *, associated_data: bytes) -> Sealed:
    key = current_key()
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), associated_data)
    return Sealed(ciphertext=sealed[:-TAG_BYTES], iv=nonce, tag=sealed[-TAG_BYTES:], key_id=key_id_of(key))


def open_sealed(sealed: Sealed, *, associated_data: bytes) -> str:
    key = known_keys().get(sealed.key_id)
    if key is None:
        raise DecryptionError(f"the encryption key {sealed.key_id!r} is not configured")
    if len(sealed.iv) != NONCE_BYTES or len(sealed.tag) != TAG_BYTES:
        raise DecryptionError("the stored nonce or authentication tag has the wrong length")
    try:
        plaintext = AESGCM(key).decrypt(sealed.iv, bytes(sealed.ciphertext) + bytes(sealed.tag), associated_data)
    except InvalidTag:
        raise DecryptionError("the stored secret failed authentication (tampered, or from another row)") from None
    return plaintext.decode()
