import secrets

import pytest
from django.core.management import call_command
from django.db import connection as db

from drive.crypto import DecryptionError, key_id_of
from drive.models import DriveConnection
from drive.services.tokens import refresh_token_or_flag

TOKEN_COLUMNS = ["encrypted_refresh_token", "token_iv", "token_auth_tag"]


def raw_row(pk):
    with db.cursor() as cursor:
        cursor.execute("SELECT * FROM drive_driveconnection WHERE id = %s", [pk])
        return cursor.fetchone()


def set_raw(pk, column, value):
    with db.cursor() as cursor:
        cursor.execute(f"UPDATE drive_driveconnection SET {column} = %s WHERE id = %s", [value, pk])


def test_token_is_stored_encrypted_and_reads_back(make_connection, settings):
    conn = make_connection("alice", token="1//plain-refresh-token-alice")
    row = raw_row(conn.pk)
    blob = b"".join(bytes(v) if isinstance(v, memoryview | bytes) else str(v).encode() for v in row)
    assert b"plain-refresh-token-alice" not in blob
    fresh = DriveConnection.objects.get(pk=conn.pk)
    assert fresh.refresh_token == "1//plain-refresh-token-alice"
    assert fresh.key_id == key_id_of(settings.APP_ENCRYPTION_KEY)
    assert len(bytes(fresh.token_iv)) == 12 and len(bytes(fresh.token_auth_tag)) == 16


def test_every_write_uses_a_fresh_nonce(make_connection):
    conn = make_connection("bob", token="same")
    first = bytes(conn.token_iv), bytes(conn.encrypted_refresh_token)
    conn.refresh_token = "same"
    assert (bytes(conn.token_iv), bytes(conn.encrypted_refresh_token)) != first


def _flip(value: bytes, index: int) -> bytes:
    data = bytearray(value)
    data[index] ^= 0x01
    return bytes(data)


def _tamperings():
    for column in TOKEN_COLUMNS:
        yield column, "flip-first", lambda v: _flip(v, 0)
        yield column, "flip-last", lambda v: _flip(v, len(v) - 1)
        yield column, "truncate", lambda v: v[:-1]
        yield column, "empty-or-extended", lambda v: v + b"\x00"


@pytest.mark.reliability
@pytest.mark.parametrize("column,how,tamper", list(_tamperings()), ids=lambda x: x if isinstance(x, str) else "")
def test_tampered_token_is_refused_and_flags_only_that_connection(make_connection, column, how, tamper):
    victim = make_connection("victim")
    bystander = make_connection("bystander", token="1//bystander-token")
    stored = bytes(getattr(DriveConnection.objects.get(pk=victim.pk), column))
    set_raw(victim.pk, column, tamper(stored))
    victim = DriveConnection.objects.get(pk=victim.pk)
    with pytest.raises(DecryptionError):
        victim.refresh_token  # noqa: B018
    assert refresh_token_or_flag(victim) is None
    victim.refresh_from_db()
    assert victim.status == DriveConnection.Status.NEEDS_RECONNECT
    assert "reconnect" in victim.status_message
    bystander.refresh_from_db()
    assert bystander.status == DriveConnection.Status.CONNECTED
    assert refresh_token_or_flag(bystander) == "1//bystander-token"


@pytest.mark.reliability
def test_ciphertext_copied_to_another_row_is_refused(make_connection):
    alice = make_connection("alice", token="1//alice-token")
    mallory = make_connection("mallory", token="1//mallory-token")
    with db.cursor() as cursor:
        cursor.execute(
            "UPDATE drive_driveconnection AS m SET encrypted_refresh_token = a.encrypted_refresh_token, "
            "token_iv = a.token_iv, token_auth_tag = a.token_auth_tag, key_id = a.key_id "
            "FROM drive_driveconnection AS a WHERE a.id = %s AND m.id = %s", [alice.pk, mallory.pk])
    mallory = DriveConnection.objects.get(pk=mallory.pk)
    assert refresh_token_or_flag(mallory) is None
    assert DriveConnection.objects.get(pk=mallory.pk).status == DriveConnection.Status.NEEDS_RECONNECT
    assert refresh_token_or_flag(DriveConnection.objects.get(pk=alice.pk)) == "1//alice-token"


@pytest.mark.reliability
def test_wrong_key_is_refused(make_connection, settings):
    conn = make_connection("carol")
    settings.APP_ENCRYPTION_KEY = secrets.token_bytes(32)
    conn = DriveConnection.objects.get(pk=conn.pk)
    with pytest.raises(DecryptionError, match="not configured"):
        conn.refresh_token  # noqa: B018
    # Same key id, different key bytes (a forged key id): authentication fails.
    set_raw(conn.pk, "key_id", key_id_of(settings.APP_ENCRYPTION_KEY))
    conn = DriveConnection.objects.get(pk=conn.pk)
    assert refresh_token_or_flag(conn) is None
    assert DriveConnection.objects.get(pk=conn.pk).status == DriveConnection.Status.NEEDS_RECONNECT


@pytest.mark.reliability
def test_rotation_then_removing_the_old_key(make_connection, settings):
    old_key = settings.APP_ENCRYPTION_KEY
    connections = [make_connection(f"user{i}", token=f"1//token-{i}") for i in range(5)]
    new_key = secrets.token_bytes(32)
    settings.APP_ENCRYPTION_KEY = new_key
    settings.APP_ENCRYPTION_RETIRED_KEYS = [old_key]
    # Before rotation the old tokens still open through the retired key.
    assert DriveConnection.objects.get(pk=connections[0].pk).refresh_token == "1//token-0"
    call_command("rotate_encryption_key")
    assert set(DriveConnection.objects.values_list("key_id", flat=True)) == {key_id_of(new_key)}
    settings.APP_ENCRYPTION_RETIRED_KEYS = []
    for i, conn in enumerate(connections):
        fresh = DriveConnection.objects.get(pk=conn.pk)
        assert fresh.refresh_token == f"1//token-{i}"
        assert fresh.status == DriveConnection.Status.CONNECTED


def test_rotation_flags_an_undecryptable_token_and_goes_on(make_connection, settings):
    good = make_connection("good", token="1//good")
    bad = make_connection("bad")
    set_raw(bad.pk, "token_auth_tag", b"\x00" * 16)
    settings.APP_ENCRYPTION_RETIRED_KEYS = [settings.APP_ENCRYPTION_KEY]
    settings.APP_ENCRYPTION_KEY = secrets.token_bytes(32)
    call_command("rotate_encryption_key")
    assert DriveConnection.objects.get(pk=good.pk).key_id == key_id_of(settings.APP_ENCRYPTION_KEY)
    assert DriveConnection.objects.get(pk=bad.pk).status == DriveConnection.Status.NEEDS_RECONNECT
