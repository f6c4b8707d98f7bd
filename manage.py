#!/usr/bin/env python
"""Django's command-line utility, with configuration errors reported as one line."""
import atexit
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragbase.settings")
    if sys.argv[1:2] == ["serve"]:
        # Before Django loads: serve's own series (the drain's) and its children's go to one folder.
        from ragbase.process_metrics import remove_shared_metrics, share_metrics_with_child_processes

        atexit.register(remove_shared_metrics, share_metrics_with_child_processes())
        if "--dev" in sys.argv[2:]:
            # runserver's request threads then share the web server's bounded pool (settings):
            # each would otherwise keep a connection of its own, and 50 clients exhaust Postgres.
            os.environ["RAGBASE_WEB_SERVER"] = "true"
    from ragbase.startup import run_reporting_startup_errors

    run_reporting_startup_errors(sys.argv)


if __name__ == "__main__":
    main()
