"""Uploaded images, one mechanism for every module (venue photos, feedback photos...).

An upload is accepted only if Pillow can decode it as an image (the content decides, not the
file name), it is not larger than the configured limit, and it is not a decompression bomb.
It is then re-encoded (JPEG, or PNG when it has transparency), turned upright, scaled down to
a sensible size and stripped of all metadata (EXIF GPS positions included), and stored under a
server-made name in ``instance/uploads/<folder>/``, outside ``static/``: it is served only by
views that first check who may see it.
"""

from __future__ import annotations

import io
import re
import secrets
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import abort, current_app, send_from_directory
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.orm import Mapped, mapped_column

from .database import UTCDateTime, utcnow, write_transaction
from .errors import ServiceError
from .extensions import db

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}
MAX_PIXELS = 40_000_000  # larger is refused: a decompression bomb or a poster, not a photo
MAX_SIDE = 2000  # stored images are scaled down to this
_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png)$")


@dataclass(frozen=True)
class StoredImage:
    name: str
    width: int
    height: int
    size: int


def upload_root() -> Path:
    return Path(current_app.config.get("UPLOAD_FOLDER") or
                Path(current_app.instance_path) / "uploads")


def store_image(upload, folder: str, field: str = "photo") -> StoredImage:
    """Check, clean and store an uploaded image; ServiceError (beside ``field``) if refused."""
    limit = current_app.config["UPLOAD_IMAGE_MAX_MB"] * 1024 * 1024
    data = upload.stream.read(limit + 1)
    if not data:
        raise ServiceError(_l("Choose a file."), field=field)
    if len(data) > limit:
        raise ServiceError(_l("The image is larger than %(mb)d MB.",
                              mb=current_app.config["UPLOAD_IMAGE_MAX_MB"]), field=field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()  # structure check
            image = Image.open(io.BytesIO(data))
            if image.format not in ACCEPTED_FORMATS:
                raise ServiceError(_l("Only JPEG, PNG, WebP or GIF images are accepted."),
                                   field=field)
            if image.width * image.height > MAX_PIXELS:
                raise ServiceError(_l("The image has too many pixels."), field=field)
            image.load()
    except ServiceError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ServiceError(_l("This file is not an image we can read."), field=field) from None
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    has_alpha = image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in
                                                 image.info)
    stripped = image.convert("RGBA" if has_alpha else "RGB")
    stripped.info = {}  # saved without EXIF, ICC profile or comments
    suffix = "png" if has_alpha else "jpg"
    name = f"{secrets.token_hex(16)}.{suffix}"
    target = upload_root() / folder
    target.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    if has_alpha:
        stripped.save(buffer, "PNG", optimize=True)
    else:
        stripped.save(buffer, "JPEG", quality=85, optimize=True)
    (target / name).write_bytes(buffer.getvalue())
    return StoredImage(name, stripped.width, stripped.height, buffer.tell())


def delete_image(folder: str, name: str) -> None:
    if _NAME.match(name):
        (upload_root() / folder / name).unlink(missing_ok=True)


PUBLIC_IMAGE_MAX_AGE = 3600  # seconds a public image may be cached, by browsers and proxies


def send_image(folder: str, name: str, public: bool = False):
    """Serve a stored image; the caller has already checked that the user may see it.

    Private by default (``Cache-Control: private, no-store``): no shared cache keeps a photo
    someone else may not see, and a browser keeps no copy after logging out.  ``public=True``
    only for an image anyone may see (a public venue's photo): cacheable for an hour.
    """
    if not _NAME.match(name):
        abort(404)
    response = send_from_directory(upload_root() / folder, name,
                                   max_age=PUBLIC_IMAGE_MAX_AGE if public else 0)
    if public:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_IMAGE_MAX_AGE}"
    else:
        response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class PhotoColumns:
    """The columns of a record's photo (venue photos, room photos...)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    file_name: Mapped[str] = mapped_column(sa.String(64), unique=True)  # made by the server
    caption: Mapped[str] = mapped_column(sa.String(200), default="")
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def add_photo(photo_model, folder: str, upload, caption: str, **owner):
    """Store an uploaded image and its row together: no orphan file if the row fails."""
    stored = store_image(upload, folder)
    try:
        with write_transaction():
            photo = photo_model(file_name=stored.name, caption=caption.strip(),
                                width=stored.width, height=stored.height, **owner)
            db.session.add(photo)
    except Exception:
        delete_image(folder, stored.name)
        raise
    return photo


def remove_photo(photo, folder: str) -> None:
    name = photo.file_name
    with write_transaction():
        db.session.delete(photo)
    delete_image(folder, name)


# --- documents (PDF or image): contracts, integrity agreements... ----------------------------

DOCUMENT_MAX_MB = 15  # unless UPLOAD_DOCUMENT_MAX_MB is configured (requests: 16 MB)
_DOCUMENT_NAME = re.compile(r"^[0-9a-f]{32}\.(pdf|jpg|png)$")
_LABEL_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


@dataclass(frozen=True)
class StoredDocument:
    name: str  # made by the server
    label: str  # the uploaded file's name, cleaned, for display only
    size: int


def _document_label(upload) -> str:
    label = _LABEL_UNSAFE.sub("_", (getattr(upload, "filename", "") or "").strip())
    return label[-200:] or "document"


# Active content: what a PDF reader runs, opens or plays by itself. A signed contract or an
# integrity agreement never needs it, so a PDF carrying any is refused (not rewritten: a
# rewritten file is no longer the document that was signed, and refusing cannot miss a case
# the rewriting forgot). Keys that mean it wherever they are found:
_ACTIVE_KEYS = frozenset({
    "/JS", "/JavaScript",  # a script, or the document-level names tree of scripts
    "/AA",  # additional actions: on open, close, save, print, page or field events
    "/EmbeddedFiles", "/EF",  # attached files (the names tree, a file specification's files)
    "/RichMediaContent", "/RichMediaSettings", "/XFA",  # Flash/3D media, XFA forms
})
# /Type or /Subtype values that mean it: embedded files and media, file attachments.
_ACTIVE_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment", "/RichMedia", "/Screen",
                           "/Movie", "/Sound", "/3D"})
# Actions (under /A, /Next, /OpenAction, or with /Type /Action) that only move within the
# document or follow a link; every other kind (/JavaScript, /Launch, /SubmitForm, /ImportData,
# /GoToR, /GoToE, /Rendition...) is active. Opening the file may only go to a page.
_HARMLESS_ACTIONS = frozenset({"/GoTo", "/URI", "/Named"})
_HARMLESS_OPEN_ACTIONS = frozenset({"/GoTo"})
_ACTION_KEYS = frozenset({"/A", "/Next", "/OpenAction"})


def _has_active_content(root) -> bool:
    """Whether anything reachable from the PDF's catalog is active content (see above): the
    catalog and its /OpenAction, the names tree, /AcroForm and its fields, every page with
    its annotations and their actions, outlines, action chains (/Next)... One walk over the
    object graph (each indirect object once); streams are not decoded."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    def name(value):
        value = value.get_object() if isinstance(value, IndirectObject) else value
        return str(value) if isinstance(value, NameObject) else None

    seen: set[tuple[int, int]] = set()
    stack = [(root, None)]  # (object, the key it was found under)
    while stack:
        item, key = stack.pop()
        if isinstance(item, IndirectObject):
            if (item.idnum, item.generation) in seen:
                continue
            seen.add((item.idnum, item.generation))
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            if not _ACTIVE_KEYS.isdisjoint(item.keys()):
                return True
            kind = name(item.get("/Type"))
            if kind in _ACTIVE_TYPES or name(item.get("/Subtype")) in _ACTIVE_TYPES:
                return True
            if "/S" in item and (key in _ACTION_KEYS or kind == "/Action"):
                allowed = _HARMLESS_OPEN_ACTIONS if key == "/OpenAction" else _HARMLESS_ACTIONS
                if name(item.get("/S")) not in allowed:
                    return True
            stack.extend((value, child) for child, value in dict.items(item))
        elif isinstance(item, ArrayObject):
            # a /Next array is a chain of actions; an /OpenAction array is a destination
            inherited = key if key in ("/Next", "/A") else None
            stack.extend((value, inherited) for value in item)
    return False


def _check_pdf(data: bytes, field: str) -> None:
    """A PDF is accepted only if it starts like one, pypdf can read its pages and it carries
    no active content (scripts, automatic or launch actions, embedded files or media, XFA)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ServiceError(_l("Encrypted PDF files are not accepted."), field=field)
        if len(reader.pages) < 1:
            raise ServiceError(_l("The PDF file has no pages."), field=field)
        if _has_active_content(reader.trailer.raw_get("/Root")):
            raise ServiceError(_l("This PDF file contains active content (scripts, automatic "
                                  "actions, embedded files or media) and is not accepted: "
                                  "print or save it again as a plain PDF."), field=field)
    except ServiceError:
        raise
    except (PdfReadError, OSError, ValueError, KeyError, TypeError, AttributeError,
            IndexError, RecursionError):
        raise ServiceError(_l("This PDF file cannot be read."), field=field) from None


def _looks_like_image(stream) -> bool:
    """Whether Pillow recognises the content's format (the full checks follow in store_image)."""
    try:
        with Image.open(stream) as probe:
            return probe.format in ACCEPTED_FORMATS
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return False


def store_document(upload, folder: str, field: str = "document") -> StoredDocument:
    """Check and store a PDF (magic bytes, then parsed with pypdf) or an image (through
    :func:`store_image`: re-encoded, metadata stripped), size-limited, under a server-made
    name in ``instance/uploads/<folder>/``; ServiceError beside ``field`` if refused."""
    mb = current_app.config.get("UPLOAD_DOCUMENT_MAX_MB", DOCUMENT_MAX_MB)
    limit = mb * 1024 * 1024
    if upload is None:
        raise ServiceError(_l("Choose a file."), field=field)
    label = _document_label(upload)
    head = upload.stream.read(5)
    if not head:
        raise ServiceError(_l("Choose a file."), field=field)
    if head != b"%PDF-":
        upload.stream.seek(0)
        if not _looks_like_image(upload.stream):
            raise ServiceError(_l("Only PDF files or images (JPEG, PNG, WebP, GIF) are "
                                  "accepted."), field=field)
        upload.stream.seek(0)
        image = store_image(upload, folder, field=field)
        return StoredDocument(image.name, label, image.size)
    data = head + upload.stream.read(limit + 1 - len(head))
    if len(data) > limit:
        raise ServiceError(_l("The file is larger than %(mb)d MB.", mb=mb), field=field)
    _check_pdf(data, field)
    name = f"{secrets.token_hex(16)}.pdf"
    target = upload_root() / folder
    target.mkdir(parents=True, exist_ok=True)
    (target / name).write_bytes(data)
    return StoredDocument(name, label, len(data))


def delete_document(folder: str, name: str | None) -> None:
    if name and _DOCUMENT_NAME.match(name):
        (upload_root() / folder / name).unlink(missing_ok=True)


def send_document(folder: str, name: str | None, label: str = ""):
    """Serve a stored document as a download; the caller has checked who may see it."""
    from .exports import content_disposition

    if not name or not _DOCUMENT_NAME.match(name):
        abort(404)
    response = send_from_directory(upload_root() / folder, name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    suffix = name.rsplit(".", 1)[1]
    stem = label.rsplit(".", 1)[0] if label else "document"
    response.headers["Content-Disposition"] = content_disposition(f"{stem}.{suffix}")
    return response
