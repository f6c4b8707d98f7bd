from django.core.checks import run_checks
from social_django.models import UserSocialAuth


def check_ids(**kwargs) -> list[str]:
    return [message.id for message in run_checks(**kwargs)]


def test_a_token_left_in_social_auth_extra_data_is_a_warning(make_user):
    social = UserSocialAuth.objects.create(user=make_user("old"), provider="google-oauth2", uid="sub-old",
                                           extra_data={"auth_time": 1, "expires": 3599})
    assert "drive.W002" not in check_ids(databases=["default"])
    social.extra_data = {"auth_time": 1, "refresh_token": "1//left-by-an-earlier-version"}
    social.save()
    assert "drive.W002" not in check_ids()  # a database check: only where a command asks for them
    warnings = [m for m in run_checks(databases=["default"]) if m.id == "drive.W002"]
    assert len(warnings) == 1 and "1 social-auth association" in warnings[0].msg
    assert "VACUUM FULL" in warnings[0].hint


def test_drive_without_an_oauth_client_is_a_deploy_warning(settings, db):
    settings.GOOGLE_OAUTH_CLIENT_ID, settings.GOOGLE_OAUTH_CLIENT_SECRET = "", ""
    assert "drive.W001" in check_ids(include_deployment_checks=True)
    assert "drive.W001" not in check_ids()  # a laptop demo without Drive stays quiet
    settings.GOOGLE_OAUTH_CLIENT_ID, settings.GOOGLE_OAUTH_CLIENT_SECRET = "id", "secret"
    assert "drive.W001" not in check_ids(include_deployment_checks=True)
