"""A fake Google on a loopback port: OAuth authorize (a browser is sent straight back with a code
as `account_email`), token/revoke/userinfo and the Drive v3 calls ragbase makes (files.list of
files or of folders, files.get alt=media, files.export, drives.list, changes.getStartPageToken,
changes.list). Files in a shared drive (`drive_id`) are listed only with includeItemsFromAllDrives.
The real google-auth and google-api-python-client talk to it over HTTP."""
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

FOLDER = "application/vnd.google-apps.folder"


@dataclass
class FakeFile:
    id: str
    name: str
    mime_type: str
    content: bytes
    modified_time: str = "2026-01-01T00:00:00.000Z"
    parents: list = field(default_factory=lambda: ["root"])
    trashed: bool = False
    broken: bool = False
    drive_id: str | None = None  # the shared drive it lives in; None = My Drive

    def resource(self):
        data = {"id": self.id, "name": self.name, "mimeType": self.mime_type, "modifiedTime": self.modified_time,
                "parents": self.parents, "trashed": self.trashed,
                "webViewLink": f"https://drive.google.com/file/d/{self.id}/view"}
        if not self.mime_type.startswith("application/vnd.google-apps"):
            data["size"] = str(len(self.content))
            data["md5Checksum"] = hashlib.md5(self.content).hexdigest()  # binary content only, as Drive does
        return data


class FakeGoogle:
    def __init__(self):
        self.files: dict[str, FakeFile] = {}
        self.shared_drives: dict[str, str] = {}  # shared drive id -> name
        self.downloads: list[str] = []  # file ids whose content was downloaded or exported
        self.changes: list[dict] = []
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> email
        self.codes: dict[str, str] = {}  # authorization code -> email
        self.access_tokens: dict[str, str] = {}  # access token -> email
        self.revoked: list[str] = []
        self.failures: list[tuple[str, int, str | None]] = []  # (path fragment, status, Retry-After)
        self.requests: list[str] = []
        self.page_size_cap = 2
        self.account_email = "user@gmail.example"  # who "signs in" at /authorize (browser tests)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- test controls -------------------------------------------------------------------------
    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def issue_code(self, email: str) -> str:
        code = "code-" + secrets.token_urlsafe(8)
        self.codes[code] = email
        return code

    def grant(self, email: str) -> str:
        token = "1//refresh-" + secrets.token_urlsafe(16)
        self.refresh_tokens[token] = email
        return token

    def revoke_all(self):
        self.refresh_tokens.clear()

    def put_file(self, file: FakeFile):
        self.files[file.id] = file
        self.changes.append({"fileId": file.id, "removed": False})

    def put_folder(self, folder_id: str, name: str, parents: list | None = None, drive_id: str | None = None):
        self.put_file(FakeFile(folder_id, name, FOLDER, b"", parents=parents or ["root"], drive_id=drive_id))

    def remove_file(self, file_id: str):
        del self.files[file_id]
        self.changes.append({"fileId": file_id, "removed": True})

    def fail_next(self, path_fragment: str, status: int, retry_after: str | None = None):
        self.failures.append((path_fragment, status, retry_after))

    # --- HTTP ----------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, content_type="application/json", headers=None):
                payload = json.dumps(body).encode() if content_type == "application/json" else body
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def _injected_failure(self):
                for index, (fragment, status, retry_after) in enumerate(fake.failures):
                    if fragment in self.path:
                        del fake.failures[index]
                        headers = {"Retry-After": retry_after} if retry_after is not None else {}
                        reason = "rateLimitExceeded" if status in (403, 429) else "backendError"
                        self._send(status, {"error": {"code": status, "message": reason,
                                                      "errors": [{"reason": reason}]}}, headers=headers)
                        return True
                return False

            def do_POST(self):
                fake.requests.append("POST " + self.path)
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                path = urlparse(self.path).path
                if path == "/token":
                    return self._token(form)
                if path == "/revoke":
                    token = form.get("token") or parse_qs(urlparse(self.path).query).get("token", [""])[0]
                    fake.revoked.append(token)
                    fake.refresh_tokens.pop(token, None)
                    return self._send(200, {})
                self._send(404, {"error": "not found"})

            def _token(self, form):
                grant_type = form.get("grant_type")
                if grant_type == "authorization_code" and form.get("code") in fake.codes:
                    email = fake.codes.pop(form["code"])
                    refresh = fake.grant(email)
                elif grant_type == "refresh_token" and form.get("refresh_token") in fake.refresh_tokens:
                    email, refresh = fake.refresh_tokens[form["refresh_token"]], None
                else:
                    return self._send(400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
                access = "ya29.access-" + secrets.token_urlsafe(16)
                fake.access_tokens[access] = email
                body = {"access_token": access, "expires_in": 3599, "token_type": "Bearer",
                        "scope": "https://www.googleapis.com/auth/drive.readonly"}
                if refresh:
                    body["refresh_token"] = refresh
                self._send(200, body)

            def do_GET(self):
                fake.requests.append("GET " + self.path)
                parsed = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
                if parsed.path == "/authorize":
                    return self._authorize(query)
                email = fake.access_tokens.get(self.headers.get("Authorization", "").removeprefix("Bearer "))
                if email is None:
                    return self._send(401, {"error": {"code": 401, "message": "Invalid Credentials"}})
                if self._injected_failure():
                    return
                parts = parsed.path.strip("/").split("/")
                if parsed.path == "/userinfo":
                    return self._send(200, {"sub": "sub-" + email, "email": email, "email_verified": True,
                                            "name": email.split("@")[0]})
                if parts[:2] != ["drive", "v3"]:
                    return self._send(404, {"error": "not found"})
                rest = parts[2:]
                if rest == ["files"]:
                    return self._list_files(query)
                if rest == ["drives"]:
                    drives = [{"id": i, "name": n} for i, n in fake.shared_drives.items()]
                    return self._send_page(drives, "drives", query)
                if rest == ["changes", "startPageToken"]:
                    return self._send(200, {"startPageToken": str(len(fake.changes))})
                if rest == ["changes"]:
                    return self._list_changes(query)
                if len(rest) >= 2 and rest[0] == "files" and rest[1] in fake.files:
                    file = fake.files[rest[1]]
                    if file.broken:
                        return self._send(500, {"error": {"code": 500, "message": "backendError"}})
                    if rest[2:] == ["export"]:
                        fake.downloads.append(file.id)
                        return self._send(200, file.content, content_type=query.get("mimeType", "text/plain"))
                    if query.get("alt") == "media":
                        fake.downloads.append(file.id)
                        return self._send(200, file.content, content_type=file.mime_type)
                    return self._send(200, file.resource())
                self._send(404, {"error": {"code": 404, "message": "File not found"}})

            def _authorize(self, query):
                """Consent granted at once: back to redirect_uri with a code and the state unchanged."""
                if query.get("client_id") is None or query.get("response_type") != "code":
                    return self._send(400, {"error": "invalid_request"})
                params = {"code": fake.issue_code(fake.account_email), "state": query.get("state", "")}
                self.send_response(302)
                self.send_header("Location", query["redirect_uri"] + "?" + urlencode(params))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _list_files(self, query):
                q = query.get("q", "")
                want_folders = f"mimeType = '{FOLDER}'" in q
                files = [f for f in fake.files.values() if not f.trashed and (f.mime_type == FOLDER) == want_folders]
                if query.get("includeItemsFromAllDrives") != "true":
                    files = [f for f in files if f.drive_id is None]
                folders = re.findall(r"'([^']+)' in parents", q)
                if folders:
                    files = [f for f in files if set(f.parents) & set(folders)]
                self._send_page([f.resource() for f in files], "files", query)

            def _send_page(self, items, key, query):
                start = int(query.get("pageToken") or 0)
                size = min(int(query.get("pageSize") or 100), fake.page_size_cap)
                body = {key: items[start:start + size]}
                if start + size < len(items):
                    body["nextPageToken"] = str(start + size)
                self._send(200, body)

            def _list_changes(self, query):
                start = int(query["pageToken"])
                size = min(int(query.get("pageSize") or 100), fake.page_size_cap)
                page = fake.changes[start:start + size]
                items = []
                for change in page:
                    item = {"fileId": change["fileId"], "removed": change["removed"]}
                    if not change["removed"] and change["fileId"] in fake.files:
                        item["file"] = fake.files[change["fileId"]].resource()
                    items.append(item)
                body = {"changes": items}
                if start + size < len(fake.changes):
                    body["nextPageToken"] = str(start + size)
                else:
                    body["newStartPageToken"] = str(len(fake.changes))
                self._send(200, body)

        return Handler
