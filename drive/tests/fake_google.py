"""A fake Google on a loopback port: OAuth authorize (a browser is sent straight back with a code
as `account_email`), token/revoke/userinfo and the Drive v3 calls ragbase makes (files.list of
files or of folders, files.get alt=media, files.export, drives.list, changes.getStartPageToken,
changes.list). The real google-auth and google-api-python-client talk to it over HTTP.

Like Google: files.list and changes.list pages hold `pageSize` items (default 100, at most 1000;
`page_size_cap` lowers that further for small tests, None = Google's sizes); `corpora` picks My
Drive (`user`, the default), one shared drive (`drive` + `driveId`) or both (`allDrives`); files
in a shared drive (`drive_id`) are listed only with includeItemsFromAllDrives; downloads and
exports answer `Range` requests with 206 and Content-Range; an export over `export_limit` bytes
answers 403 exportSizeLimitExceeded; a file made by `google_doc` exports as text/plain or as HTML
shaped like Google's (a span per formatting run, headings as <h1>-<h6>), any other format 400.
Failures to inject: `fail_next` (any status and reason), `incomplete_next` (incompleteSearch:
true), `repeat_page_token` (a page that hands back its own token), `go_offline` / `go_online` (the port closed: connection refused)."""
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from html import escape
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

    hide_size: bool = False  # listed without `size` (Drive omits it for some files)
    exports: dict | None = None  # export format -> bytes; None: `content` whatever the format asked

    def exported(self, mime_type: str) -> bytes | None:
        if self.exports is None:
            return self.content
        return self.exports.get(mime_type)

    def resource(self):
        data = {"id": self.id, "name": self.name, "mimeType": self.mime_type, "modifiedTime": self.modified_time,
                "parents": self.parents, "trashed": self.trashed,
                "webViewLink": f"https://drive.google.com/file/d/{self.id}/view"}
        if self.drive_id:
            data["driveId"] = self.drive_id
        if not self.mime_type.startswith("application/vnd.google-apps") and not self.hide_size:
            data["size"] = str(len(self.content))
            data["md5Checksum"] = hashlib.md5(self.content).hexdigest()  # binary content only, as Drive does
        return data


def google_doc(file_id: str, name: str, blocks: list, **fields) -> FakeFile:
    """A Google Doc of `blocks`: a paragraph's text, or (level, heading). Its HTML export is shaped
    like Google's: styles in the head, one line, each paragraph's text split into spans."""
    html, text = [], []
    for block in blocks:
        if isinstance(block, tuple):
            level, heading = block
            html.append(f'<h{level} class="c4" id="h.{len(html)}"><span class="c2">{escape(heading)}</span></h{level}>')
            text.append(heading)
        else:
            words = block.split(" ")
            runs = [" ".join(words[:len(words) // 2]) + " ", " ".join(words[len(words) // 2:])]
            html.append('<p class="c1">' + "".join(f'<span class="c{i}">{escape(r)}</span>' for i, r in enumerate(runs))
                        + "</p>")
            text.append(block)
    head = ('<html><head><meta content="text/html; charset=UTF-8" http-equiv="content-type">'
            '<style type="text/css">.c0{font-weight:700}.c1{margin:0}</style></head><body class="c3 doc-content">')
    exports = {"text/html": (head + "".join(html) + "</body></html>").encode(),
               "text/plain": ("\ufeff" + "\r\n\r\n".join(text)).encode()}
    return FakeFile(file_id, name, "application/vnd.google-apps.document", exports["text/plain"], exports=exports,
                    **fields)


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
        self.failures: list[tuple[str, int, str | None, str | None]] = []  # (path fragment, status, Retry-After, reason)
        self.incomplete: list[str] = []  # path fragments whose next files.list page says incompleteSearch
        self.repeating_tokens: set[str] = set()  # page tokens whose page hands the same token back
        self.requests: list[str] = []
        self.served_ranges: list[tuple[str, int, int]] = []  # (file id, first byte, last byte) sent
        self.page_size_cap: int | None = 2
        self.export_limit = 10 * 1024 * 1024  # Google's limit on exported content
        self.account_email = "user@gmail.example"  # who "signs in" at /authorize (browser tests)
        self._handler_class = self._handler()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = None
        self._lock = threading.Lock()  # the handler threads share the lists above

    # --- test controls -------------------------------------------------------------------------
    def start(self):
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def go_offline(self):
        """Close the port: every call now fails with "connection refused", as when Google is unreachable."""
        self.stop()

    def go_online(self):
        """Listen again on the same port."""
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler_class)
        self.start()

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

    def fail_next(self, path_fragment: str, status: int, retry_after: str | None = None, reason: str | None = None):
        self.failures.append((path_fragment, status, retry_after, reason))

    def incomplete_next(self, path_fragment: str = "/drive/v3/files?"):
        self.incomplete.append(path_fragment)

    def repeat_page_token(self, token: str):
        """The page at `token` hands `token` back as its nextPageToken (a listing that never ends)."""
        self.repeating_tokens.add(token)

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

            def _error(self, status, reason, message=None, headers=None):
                self._send(status, {"error": {"code": status, "message": message or reason,
                                              "errors": [{"reason": reason, "message": message or reason}]}},
                           headers=headers)

            def _injected_failure(self):
                with fake._lock:
                    for index, (fragment, status, retry_after, reason) in enumerate(fake.failures):
                        if fragment in self.path:
                            del fake.failures[index]
                            break
                    else:
                        return False
                headers = {"Retry-After": retry_after} if retry_after is not None else {}
                default = "rateLimitExceeded" if status in (403, 429) else "invalid" if status == 400 else "backendError"
                self._error(status, reason or default, headers=headers)
                return True

            def _send_content(self, file, content, content_type):
                """The bytes of a download or export; a Range request gets that part only (206)."""
                with fake._lock:
                    fake.downloads.append(file.id)
                wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if wanted is None:
                    with fake._lock:
                        fake.served_ranges.append((file.id, 0, len(content) - 1))
                    return self._send(200, content, content_type=content_type)
                if not content:
                    return self._send(416, b"", content_type=content_type, headers={"Content-Range": "bytes */0"})
                first = int(wanted[1])
                last = min(int(wanted[2]) if wanted[2] else len(content) - 1, len(content) - 1)
                with fake._lock:
                    fake.served_ranges.append((file.id, first, last))
                self._send(206, content[first:last + 1], content_type=content_type,
                           headers={"Content-Range": f"bytes {first}-{last}/{len(content)}"})

            def do_POST(self):
                with fake._lock:
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
                with fake._lock:
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
                        mime_type = query.get("mimeType", "text/plain")
                        content = file.exported(mime_type)
                        if content is None:
                            return self._error(400, "badRequest", "The requested conversion is not supported.")
                        if len(content) > fake.export_limit:
                            return self._error(403, "exportSizeLimitExceeded", "This file is too large to be exported.")
                        return self._send_content(file, content, mime_type)
                    if query.get("alt") == "media":
                        return self._send_content(file, file.content, file.mime_type)
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
                all_drives = query.get("includeItemsFromAllDrives") == "true"
                corpora = query.get("corpora", "user")
                if corpora == "drive" and not (all_drives and query.get("driveId")):
                    return self._error(400, "invalid", "corpora=drive needs driveId and includeItemsFromAllDrives")
                files = [f for f in list(fake.files.values())
                         if not f.trashed and (f.mime_type == FOLDER) == want_folders]
                if not all_drives or corpora == "user":
                    files = [f for f in files if f.drive_id is None]
                elif corpora == "drive":
                    files = [f for f in files if f.drive_id == query["driveId"]]
                folders = set(re.findall(r"'([^']+)' in parents", q))
                if folders:
                    files = [f for f in files if not folders.isdisjoint(f.parents)]
                incomplete = False
                with fake._lock:
                    for index, fragment in enumerate(fake.incomplete):
                        if fragment in self.path:
                            del fake.incomplete[index]
                            incomplete = True
                            break
                self._send_page([f.resource() for f in files], "files", query, incomplete=incomplete)

            def _page_size(self, query):
                size = min(int(query.get("pageSize") or 100), 1000)
                return min(size, fake.page_size_cap) if fake.page_size_cap else size

            def _page_start(self, query):
                """Page tokens look opaque ("p" + offset); any other value is refused, as Google does."""
                token = query.get("pageToken")
                if not token:
                    return 0
                if not re.fullmatch(r"p\d+", token):
                    return None
                return int(token[1:])

            def _send_page(self, items, key, query, incomplete=False):
                start = self._page_start(query)
                if start is None:
                    return self._error(400, "invalid", "Invalid Value")
                size = self._page_size(query)
                body = {key: items[start:start + size]}
                if query.get("pageToken") in fake.repeating_tokens:
                    body["nextPageToken"] = query["pageToken"]
                elif start + size < len(items):
                    body["nextPageToken"] = f"p{start + size}"
                if incomplete:
                    body["incompleteSearch"] = True
                self._send(200, body)

            def _list_changes(self, query):
                token = query.get("pageToken", "")
                if not token.isdigit() or int(token) > len(fake.changes):
                    return self._error(400, "invalid", "Invalid Value")
                start = int(token)
                size = self._page_size(query)
                page = fake.changes[start:start + size]
                items = []
                for change in page:
                    item = {"fileId": change["fileId"], "removed": change["removed"]}
                    if not change["removed"] and change["fileId"] in fake.files:
                        item["file"] = fake.files[change["fileId"]].resource()
                    items.append(item)
                body = {"changes": items}
                if token in fake.repeating_tokens:
                    body["nextPageToken"] = token
                elif start + size < len(fake.changes):
                    body["nextPageToken"] = str(start + size)
                else:
                    body["newStartPageToken"] = str(len(fake.changes))
                self._send(200, body)

        return Handler
