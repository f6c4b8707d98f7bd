"""Create an API token for a user. The token goes to stdout alone (TOKEN=$(manage.py create_api_token
alice)); what it is and when it expires goes to stderr. It is shown this once and never stored."""
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ragbase.api_tokens import create_api_token, token_id


class Command(BaseCommand):
    help = "Create an API token for USERNAME and print it (once: only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None,
                            help="Days until the token expires (default: API_TOKEN_TTL_DAYS).")

    def handle(self, *args, username, days, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1")
        instance, token = create_api_token(user=user, lifetime=timedelta(days=days) if days else None)
        expires = f"expires {instance.expiry:%Y-%m-%d %H:%M} UTC" if instance.expiry else "never expires"
        self.stderr.write(f"API token {token_id(token)}… for {username} ({expires}). It is shown only now: "
                          f"send it as 'Authorization: Token <token>'.")
        self.stdout.write(token)
