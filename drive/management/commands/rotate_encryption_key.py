"""Re-encrypt every stored Drive token under APP_ENCRYPTION_KEY (the old key must still be
listed in APP_ENCRYPTION_RETIRED_KEYS); afterwards the old key can be removed."""
from django.core.management.base import BaseCommand
from tqdm import tqdm

from drive.crypto import current_key, key_id_of
from drive.models import DriveConnection
from drive.services.tokens import rotate_connection_key


class Command(BaseCommand):
    help = "Re-encrypt all stored Google tokens under the current APP_ENCRYPTION_KEY."

    def handle(self, *args, **options):
        ids = list(DriveConnection.objects.exclude(key_id="").values_list("pk", flat=True))
        failed = [pk for pk in tqdm(ids, desc="re-encrypting tokens", unit="token") if not rotate_connection_key(pk)]
        left = DriveConnection.objects.exclude(key_id="").exclude(key_id=key_id_of(current_key())).count()
        self.stdout.write(f"{len(ids) - len(failed)} token(s) now under key id {key_id_of(current_key())}.")
        if failed:
            self.stdout.write(self.style.WARNING(
                f"{len(failed)} connection(s) could not be decrypted and now need reconnecting: {failed}"))
        if left:
            self.stdout.write(self.style.WARNING(f"{left} token(s) are still under an old key."))
        else:
            self.stdout.write(self.style.SUCCESS("No token uses an old key any more; the retired keys can be removed."))
