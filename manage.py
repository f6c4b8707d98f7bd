#!/usr/bin/env python
"""Django's command-line utility, with configuration errors reported as one line."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragbase.settings")
    from ragbase.startup import run_reporting_startup_errors

    run_reporting_startup_errors(sys.argv)


if __name__ == "__main__":
    main()
