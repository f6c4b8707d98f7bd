"""DRF's authtoken table held every API key in plaintext. Those keys no longer authenticate
(API tokens are django-rest-knox digests now); dropping the table takes them out of the live
database, and forgetting its migrations lets the app be installed again cleanly."""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.RunSQL(
            sql=["DROP TABLE IF EXISTS authtoken_token", "DELETE FROM django_migrations WHERE app = 'authtoken'"],
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
