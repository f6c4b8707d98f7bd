"""The user's Drive folders: one paginated folder listing (plus the shared drives, when asked),
the tree it makes, and chosen folders expanded to every folder below them.

A chosen folder means the folder and everything under it. A shared drive's id is the parent of
the items at its top, so a shared drive can be chosen like a folder."""
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from googleapiclient.errors import HttpError

from drive.models import DriveConnection
from drive.services.google_api import GrantRevoked, all_drives_kwargs, drive_service, pages
from drive.services.tokens import REVOKED_MESSAGE, refresh_token_or_flag

FOLDER_MIME_TYPE = "application/vnd.google-apps.folder"
FOLDER_QUERY = f"mimeType = '{FOLDER_MIME_TYPE}' and trashed = false"


@dataclass(frozen=True)
class Folder:
    id: str
    name: str
    parents: tuple = ()
    shared_drive: bool = False  # the top of a shared drive (from drives.list), not a folder
    drive_id: str | None = None  # the shared drive it lives in; None = My Drive


@dataclass
class FolderRow:
    """One line of the picker: a folder, how deep it sits, whether it is ticked."""
    folder: Folder
    depth: int
    checked: bool = False

    @property
    def indent_steps(self) -> range:
        # One indent per level (the page's CSS gives each a width; no style attribute, which the
        # Content-Security-Policy forbids).
        return range(self.depth)


@dataclass
class FolderTree:
    folders: dict[str, Folder] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def build(cls, folders) -> "FolderTree":
        tree = cls()
        for folder in folders:
            tree.folders[folder.id] = folder
        for folder in sorted(tree.folders.values(), key=lambda f: (f.name.lower(), f.id)):
            for parent in folder.parents:
                tree.children[parent].append(folder.id)
        return tree

    def descendants(self, roots) -> set[str]:
        """The given folder ids and every folder below them (known or not, the roots stay)."""
        found = set(roots)
        stack = list(found)
        while stack:
            for child in self.children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found

    def rows(self, selected=()) -> list[FolderRow]:
        """Depth-first, for an indented list: My Drive's top folders first, then the shared drives.
        A folder with several parents is shown once, under the first one reached."""
        selected = set(selected)
        tops = [f for f in self.folders.values() if not any(p in self.folders for p in f.parents)]
        tops.sort(key=lambda f: (f.shared_drive, f.name.lower(), f.id))
        rows, shown = [], set()
        stack = [(folder.id, 0) for folder in reversed(tops)]
        while stack:
            folder_id, depth = stack.pop()
            if folder_id in shown:
                continue
            shown.add(folder_id)
            rows.append(FolderRow(self.folders[folder_id], depth, folder_id in selected))
            stack.extend((child, depth + 1) for child in reversed(self.children.get(folder_id, ())))
        return rows


def list_folders(service, *, include_shared_drives: bool, with_shared_drive_tops: bool = False) -> FolderTree:
    """One paginated listing of the folders the user can see (and the shared drives themselves)."""
    folders = []
    for page in pages(service.files().list, q=FOLDER_QUERY, pageSize=settings.DRIVE_PAGE_SIZE,
                      fields="nextPageToken, files(id, name, parents, driveId)",
                      **all_drives_kwargs(include_shared_drives)):
        folders += [Folder(f["id"], f.get("name") or f["id"], tuple(f.get("parents") or ()), drive_id=f.get("driveId"))
                    for f in page.get("files", [])]
    if include_shared_drives and with_shared_drive_tops:
        folders += shared_drive_tops(service)
    return FolderTree.build(folders)


def shared_drive_tops(service) -> list[Folder]:
    """The shared drives the user can see (drives.list), each as the top of its tree."""
    tops = []
    for page in pages(service.drives().list, pageSize=100, fields="nextPageToken, drives(id, name)"):
        tops += [Folder(d["id"], d.get("name") or d["id"], shared_drive=True, drive_id=d["id"])
                 for d in page.get("drives", [])]
    return tops


@dataclass
class PickerListing:
    tree: FolderTree | None = None
    problem: str = ""  # why there is no tree (the user has to reconnect, Google did not answer)


def folders_for_picker(connection: DriveConnection, *, include_shared_drives: bool) -> PickerListing:
    """The folder tree for the picker page, or the reason it cannot be shown. A revoked grant
    marks the connection "needs reconnect", exactly as a sync would."""
    if connection.status != DriveConnection.Status.CONNECTED:
        return PickerListing(problem=connection.status_message or connection.get_status_display())
    refresh_token = refresh_token_or_flag(connection)
    if refresh_token is None:
        return PickerListing(problem=connection.status_message)
    try:
        tree = list_folders(drive_service(refresh_token), include_shared_drives=include_shared_drives,
                            with_shared_drive_tops=True)
    except GrantRevoked:
        connection.mark_needs_reconnect(REVOKED_MESSAGE)
        return PickerListing(problem=REVOKED_MESSAGE)
    except HttpError as error:
        return PickerListing(problem=f"Google Drive did not answer (HTTP {error.resp.status}); try again later.")
    return PickerListing(tree=tree)
