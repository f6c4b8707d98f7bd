from drive.models import DriveConnection


def test_admin_actions_and_no_secret_shown(admin_client, make_connection):
    first = make_connection("ann", token="1//ann-secret-token")
    second = make_connection("ben", token="1//ben-secret-token")
    page = admin_client.get("/admin/drive/driveconnection/").content.decode()
    assert "encrypted, key id " + first.key_id in page and "secret-token" not in page
    change = admin_client.get(f"/admin/drive/driveconnection/{first.pk}/change/").content.decode()
    assert "1//ann-secret-token" not in change
    admin_client.post("/admin/drive/driveconnection/", {"action": "disable", "_selected_action": [first.pk]})
    admin_client.post("/admin/drive/driveconnection/", {"action": "mark_for_reconnect", "_selected_action": [second.pk]})
    assert DriveConnection.objects.get(pk=first.pk).status == DriveConnection.Status.DISABLED
    assert DriveConnection.objects.get(pk=second.pk).status == DriveConnection.Status.NEEDS_RECONNECT


def test_user_page_shows_reconnect_state(client, make_connection, fake_google):
    connection = make_connection("cat")
    connection.mark_needs_reconnect("Google refused the stored access; please reconnect Google Drive.")
    client.force_login(connection.user)
    page = client.get("/drive/").content.decode()
    assert "Needs reconnect" in page and "Reconnect Google Drive" in page and "please reconnect" in page


def test_admin_revokes_a_grant_at_google_and_keeps_the_documents(admin_client, make_connection, fake_google):
    connection = make_connection("dot", token="1//dot-grant")
    fake_google.refresh_tokens["1//dot-grant"] = "dot@gmail.example"
    admin_client.post("/admin/drive/driveconnection/", {"action": "revoke_at_google",
                                                        "_selected_action": [connection.pk]})
    assert fake_google.revoked == ["1//dot-grant"] and "1//dot-grant" not in fake_google.refresh_tokens
    connection.refresh_from_db()
    assert connection.status == DriveConnection.Status.NEEDS_RECONNECT and "revoked" in connection.status_message
    assert connection.refresh_token is None and connection.key_id == ""
