"""The table of the `cluster_status` cache (settings.CACHES), where django-q2 clusters publish
their status for /readyz and the admin. createcachetable makes every missing cache table of
CACHES and leaves existing ones alone."""
from django.core.management import call_command
from django.db import migrations

TABLE = "ragbase_cluster_status"


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("ragbase", "0001_drop_plaintext_api_tokens")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
