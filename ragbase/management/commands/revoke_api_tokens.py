from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ragbase.api_tokens import revoke_api_tokens


class Command(BaseCommand):
    help = "Revoke USERNAME's API tokens: all of them, or one with --token ID (the id the admin lists)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--token", default="", help="Revoke only the token with this id (its first characters).")

    def handle(self, *args, username, token, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        count = revoke_api_tokens(user=user, token_key=token)
        if token and not count:
            raise CommandError(f"{username} has no API token with id {token!r}")
        self.stdout.write(self.style.SUCCESS(f"revoked {count} API token(s) of {username}"))
