"""Turn configuration and connectivity failures at start-up into one readable line.

An operator who starts ragbase with a bad key or an unreachable database should read what is
wrong and how to fix it, not a traceback.
"""
import sys

from django.core.exceptions import ImproperlyConfigured


class StartupError(ImproperlyConfigured):
    """A problem the operator must fix before ragbase can run; its message says how."""


def run_reporting_startup_errors(argv):
    from django.core.management import execute_from_command_line
    from django.db.utils import OperationalError

    try:
        execute_from_command_line(argv)
    except StartupError as exc:
        _die(str(exc))
    except ImproperlyConfigured as exc:
        _die(f"configuration error: {exc}")
    except OperationalError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
        _die(f"cannot reach the database (check DATABASE_URL): {first_line}")


def _die(message):
    print(f"ragbase: error: {message}", file=sys.stderr)
    sys.exit(1)

