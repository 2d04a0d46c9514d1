"""Announcement attachments: PDF, images and office documents, checked by extension and by
their first bytes, kept under <data_dir>/attachments with a random name."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from hub.errors import Invalid, TooLarge
from hub.text import without_bidi_controls

MAX_SIZE = 10 * 1024 * 1024
MAX_FILES = 5

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Word and Excel files
# extension -> (content type, accepted leading bytes)
KINDS: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (_ZIP,)
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (_ZIP,)),
    "pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", (_ZIP,)
    ),
    "odt": ("application/vnd.oasis.opendocument.text", (_ZIP,)),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", (_ZIP,)),
    "doc": ("application/msword", (_OLE,)),
    "xls": ("application/vnd.ms-excel", (_OLE,)),
}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Checked:
    filename: str
    content_type: str
    data: bytes


def check(upload: Upload) -> Checked:
    """The upload's content type, or Invalid / TooLarge with the reason."""
    name = shown_name(upload.filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in KINDS:
        raise Invalid(
            f"Файл «{name}»: такой тип не принимается (можно PDF, изображения PNG, JPEG, GIF "
            "и документы Word, Excel, PowerPoint, OpenDocument)."
        )
    if len(upload.data) > MAX_SIZE:
        raise TooLarge(f"Файл «{name}» больше {MAX_SIZE // (1024 * 1024)} МБ.")
    if not upload.data:
        raise Invalid(f"Файл «{name}» пуст.")
    content_type, signatures = KINDS[extension]
    if not upload.data.startswith(signatures):
        raise Invalid(f"Файл «{name}» не похож на .{extension}: содержимое другого типа.")
    return Checked(name, content_type, upload.data)


def shown_name(filename: str) -> str:
    """The file name as stored and shown: no folders, no bidi controls that disguise it."""
    name = Path(without_bidi_controls(filename).replace("\\", "/")).name.strip()
    return name[:255] or "файл"


def folder(data_dir: Path) -> Path:
    return data_dir / "attachments"


def store(data_dir: Path, checked: Checked) -> str:
    """Write the file; its stored name (random) is returned."""
    target = folder(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    path = target / stored_name
    with path.open("xb") as handle:
        handle.write(checked.data)
    return stored_name


def path_of(data_dir: Path, stored_name: str) -> Path:
    return folder(data_dir) / stored_name
