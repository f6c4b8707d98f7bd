from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the superuser named by RAGBASE_ADMIN_USERNAME/RAGBASE_ADMIN_PASSWORD if it does not exist."

    def handle(self, *args, **options):
        username = settings.RAGBASE_ADMIN_USERNAME
        password = settings.RAGBASE_ADMIN_PASSWORD
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"superuser {username!r} exists")
            return
        if not password:
            raise CommandError("RAGBASE_ADMIN_PASSWORD is not set; cannot create the superuser")
        users.create_superuser(username=username, email=settings.RAGBASE_ADMIN_EMAIL, password=password)
        self.stdout.write(self.style.SUCCESS(f"created superuser {username!r}"))
