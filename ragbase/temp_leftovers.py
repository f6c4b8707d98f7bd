"""The temp folders a server keeps while it runs, and the removal of those a killed one left.

`serve` makes the folder of the embedded store's socket (chunks.vector_index.owner_link), and
`serve` or gunicorn on its own the folder of the processes' Prometheus series
(ragbase.process_metrics); each removes its own when it stops. Killed (SIGKILL, the OOM killer,
a power cut) it cannot, so each folder's name carries the id of the process that made it, and the
next `serve` removes those whose process no longer runs.
"""
import os
import re
import shutil
import tempfile
from pathlib import Path

import psutil

_SERVER_FOLDER = re.compile(r"ragbase-(?:store|metrics)-(\d+)-")


def remove_folders_of_killed_servers() -> list[Path]:
    """Remove this user's server folders in the temp dir whose process is gone; returns them."""
    removed = []
    for folder in Path(tempfile.gettempdir()).iterdir():
        match = _SERVER_FOLDER.match(folder.name)
        if not match or folder.is_symlink() or not folder.is_dir():
            continue
        if folder.stat().st_uid != os.getuid() or psutil.pid_exists(int(match[1])):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed
