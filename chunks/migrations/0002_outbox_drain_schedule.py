"""Register the outbox drain as a django-q2 schedule (visible in the admin's Scheduled tasks)."""
import math

from django.conf import settings
from django.db import migrations

SCHEDULE_NAME = "outbox drain"


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "chunks.tasks.drain_outbox",
            "schedule_type": "I",  # every N minutes: django-q2's finest interval
            "minutes": max(1, math.ceil(settings.OUTBOX_SCHEDULE_SECONDS / 60)),
            "repeats": -1,
        },
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("chunks", "0001_initial"), ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more")]
    operations = [migrations.RunPython(add_schedule, remove_schedule)]
