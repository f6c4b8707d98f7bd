"""`manage.py vector_snapshots` against a loopback fake of the Qdrant server's snapshot REST API
(no Qdrant server can run here; qdrant-client's local mode has no snapshots): the real
qdrant-client and httpx calls, checked at the HTTP boundary."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

SNAPSHOT = b"snapshot-bytes " * 1000
# The fake listens on plain http; ragbase.W001 warns about that in production.
pytestmark = pytest.mark.filterwarnings("ignore:Api key is used with an insecure connection")


class FakeQdrant(BaseHTTPRequestHandler):
    requests: list = []

    def log_message(self, *args):
        pass

    def _answer(self, result, status=200):
        body = json.dumps({"result": result, "status": "ok", "time": 0.0}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.requests.append((self.command, self.path, self.headers.get("api-key"), self.rfile.read(length)))

    def do_GET(self):
        self._record()
        if self.path.endswith("/snapshots"):
            return self._answer([{"name": "s1.snapshot", "creation_time": "2026-12-02T01:00:00", "size": len(SNAPSHOT)}])
        if self.path.endswith("/snapshots/s1.snapshot"):
            self.send_response(200)
            self.send_header("Content-Length", str(len(SNAPSHOT)))
            self.end_headers()
            return self.wfile.write(SNAPSHOT)
        self._answer(None, status=404)

    def do_POST(self):
        self._record()
        if "/snapshots/upload" in self.path:
            return self._answer(True)
        self._answer({"name": "s2.snapshot", "creation_time": None, "size": 42})

    def do_PUT(self):
        self._record()
        self._answer(True)


@pytest.fixture
def qdrant(settings):
    FakeQdrant.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeQdrant)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.QDRANT_URL = f"http://127.0.0.1:{server.server_port}"
    settings.QDRANT_API_KEY = "k3y"
    settings.QDRANT_COLLECTION = "ragbase_hybrid"
    yield FakeQdrant.requests
    server.shutdown()


def run(*args):
    out = StringIO()
    call_command("vector_snapshots", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_list_download_and_restore_with_priority_snapshot(qdrant, tmp_path):
    assert "created s2.snapshot (42 bytes)" in run("create")
    assert "s1.snapshot" in run("list")
    target = tmp_path / "s1.snapshot"
    assert "15,000 bytes" in run("download", "s1.snapshot", str(target))
    assert target.read_bytes() == SNAPSHOT and not (tmp_path / "s1.snapshot.partial").exists()
    assert "restored" in run("restore", str(target), "--yes")
    method, path, key, body = qdrant[-1]
    assert method == "POST" and path.startswith("/collections/ragbase_hybrid/snapshots/upload?")
    assert "priority=snapshot" in path and key == "k3y" and SNAPSHOT in body
    run("restore", "http://backups.example/s1.snapshot", "--yes")
    method, path, _, body = qdrant[-1]
    assert method == "PUT" and path.startswith("/collections/ragbase_hybrid/snapshots/recover")
    assert json.loads(body) == {"location": "http://backups.example/s1.snapshot", "priority": "snapshot"}
    assert all(key == "k3y" for _, _, key, _ in qdrant)


def test_restore_asks_first_and_embedded_mode_points_to_export(qdrant, settings):
    with pytest.raises(CommandError, match="--yes"):
        run("restore", "http://backups.example/s1.snapshot")
    assert not any(method == "PUT" for method, *_ in qdrant)
    settings.QDRANT_URL = ""
    with pytest.raises(CommandError, match="export_vectors"):
        run("list")
