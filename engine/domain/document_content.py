"""What an uploaded document really is, from its bytes alone (issue #14 item 4).

A file's name and the content type its sender declares are never trusted: the type is read
from the content (the magic bytes at offset 0) and then proved by a real parse. A PDF is
parsed with pypdf, every object visited, and refused when it carries JavaScript, launch
actions, embedded files, XFA or rich media, when it is encrypted (it could not be inspected),
or when anything follows its last `%%EOF`. A PNG's chunks are walked (lengths and CRCs) to an
`IEND` that ends the file; a JPEG must end at its end-of-image marker; both are then decoded
by Pillow, after their pixel count is checked against a bound (an image bomb is refused before
anything is decompressed). Bytes another format would also read (a PDF header, a ZIP
directory, HTML) inside an image make it a polyglot, refused.
"""

from __future__ import annotations

import io
import re
import warnings
import zlib
from dataclasses import dataclass

from engine.domain.errors import DocumentRefusedError, DocumentTooLargeError
from engine.domain.problems import Problem

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
MEDIA_TYPES = (PDF, JPEG, PNG)
EXTENSIONS = {PDF: "pdf", JPEG: "jpg", PNG: "png"}

MAX_PIXELS = 40_000_000  # a 40-megapixel scan is generous for a KTP or a drawing
MAX_SIDE = 20_000
MAX_PDF_PAGES = 2_000
MAX_PDF_OBJECTS = 200_000

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PDF_MAGIC = re.compile(rb"%PDF-[12]\.\d")
# Names that make a PDF act rather than show: scripts, launching programs, carried files.
# (An /OpenAction or /AA is refused through the action it runs: most only set the first view.)
_ACTIVE_NAMES = frozenset(
    {"/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/RichMedia",
     "/XFA", "/SubmitForm", "/ImportData", "/GoToE"}
)
_NAME_TOKEN = re.compile(rb"/[^\s/<>\[\]()%{}]+")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# What other formats would read in an image: another header, a ZIP directory, markup.
_FOREIGN_IN_IMAGE = re.compile(rb"%PDF-|<script|<html|<svg|<\?php|<!doctype", re.IGNORECASE)
_ZIP_END = b"PK\x05\x06"


@dataclass(frozen=True, slots=True)
class Content:
    """What the bytes were proved to be."""

    media_type: str
    size: int
    pages: int | None = None
    width: int | None = None
    height: int | None = None


def inspect(data: bytes, *, field: str, max_bytes: int) -> Content:
    """Prove `data` is a PDF, JPEG or PNG safe to keep and serve.

    `field` names the document in every problem (the requirement code).
    Raises: DocumentTooLargeError, DocumentRefusedError.
    """
    if len(data) > max_bytes:
        raise too_large(field, max_bytes)
    if not data:
        raise _refused(field, "the file is empty (0 bytes)", "berkas kosong (0 bita)")
    if data.startswith(_PNG_MAGIC):
        width, height = _check_png(data, field)
        return Content(PNG, len(data), width=width, height=height)
    if data.startswith(_JPEG_MAGIC):
        width, height = _check_jpeg(data, field)
        return Content(JPEG, len(data), width=width, height=height)
    if _PDF_MAGIC.match(data):
        return Content(PDF, len(data), pages=_check_pdf(data, field))
    raise _refused(
        field,
        "the content is not a PDF, JPEG or PNG file (its name and declared type are not "
        "trusted)",
        "isi berkas bukan PDF, JPEG atau PNG",
    )


def too_large(field: str, max_bytes: int) -> DocumentTooLargeError:
    """The refusal of a document over `max_bytes` (also before its body is read)."""
    message = f"the document is larger than {max_bytes} bytes"
    return DocumentTooLargeError(message, [Problem(message, field=field)])


def _refused(field: str, message: str, indonesian: str) -> DocumentRefusedError:
    return DocumentRefusedError(f"{message} ({indonesian})", [Problem(message, field=field)])


# -- images ----------------------------------------------------------------------------------


def _check_png(data: bytes, field: str) -> tuple[int, int]:
    at, seen_header, end = len(_PNG_MAGIC), False, None
    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        body_end = at + 8 + length
        if length > 2**31 - 1 or body_end + 4 > len(data):
            raise _refused(field, "a PNG chunk runs past the end of the file", "PNG rusak")
        crc = int.from_bytes(data[body_end : body_end + 4], "big")
        if zlib.crc32(data[at + 4 : body_end]) != crc:
            raise _refused(field, f"the PNG chunk {kind!r} fails its CRC", "PNG rusak")
        if not seen_header and kind != b"IHDR":
            raise _refused(field, "the PNG does not start with its header", "PNG rusak")
        seen_header = True
        at = body_end + 4
        if kind == b"IEND":
            end = at
            break
    if end is None:
        raise _refused(field, "the PNG has no end chunk (IEND)", "PNG terpotong")
    if end != len(data):
        raise _refused(
            field, "data follows the PNG's end (a polyglot file)", "ada data setelah akhir PNG"
        )
    return _decode_image(data, "PNG", field)


def _check_jpeg(data: bytes, field: str) -> tuple[int, int]:
    if not data.endswith(b"\xff\xd9"):
        raise _refused(
            field,
            "the JPEG does not end at its end-of-image marker (truncated, or another file "
            "follows it)",
            "JPEG terpotong atau ada data setelah akhir gambar",
        )
    return _decode_image(data, "JPEG", field)


def _decode_image(data: bytes, kind: str, field: str) -> tuple[int, int]:
    if _FOREIGN_IN_IMAGE.search(data) or _ZIP_END in data[-65_557:]:
        raise _refused(
            field,
            "the image also holds another format's data (a polyglot file)",
            "gambar memuat data format lain",
        )
    from PIL import Image  # imported on use: most requests never decode an image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # Pillow's own bomb warning refuses too
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                width, height = image.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise _refused(
                        field,
                        f"the image is {width}x{height} pixels, over the bound of "
                        f"{MAX_PIXELS} pixels ({MAX_SIDE} a side): refused as an image bomb",
                        "gambar terlalu besar (bom gambar)",
                    )
                image.load()
    except DocumentRefusedError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refused(
            field, "the image is refused as an image bomb (too many pixels)",
            "gambar terlalu besar (bom gambar)",
        ) from None
    except Exception as exc:  # any decoder failure: "not a valid image"
        raise _refused(
            field, f"the {kind} image cannot be decoded: {type(exc).__name__}", f"{kind} rusak"
        ) from None
    return width, height


# -- PDF -------------------------------------------------------------------------------------


def _check_pdf(data: bytes, field: str) -> int:
    tail = data.rstrip(b" \t\r\n\x00")
    if not tail.endswith(b"%%EOF"):
        raise _refused(
            field,
            "the PDF does not end at its last %%EOF (truncated, or another file follows it)",
            "PDF terpotong atau ada data setelah akhir berkas",
        )
    _refuse_active(_raw_names(data), field)
    from pypdf import PdfReader  # imported on use

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pypdf warns about what it repairs
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted:
                raise _refused(
                    field,
                    "the PDF is encrypted, so it cannot be inspected",
                    "PDF terenkripsi tidak dapat diperiksa",
                )
            pages = len(reader.pages)
            size = int(reader.trailer.get("/Size", 0))
            if size > MAX_PDF_OBJECTS or pages > MAX_PDF_PAGES:
                raise _refused(
                    field, f"the PDF has over {MAX_PDF_PAGES} pages or {MAX_PDF_OBJECTS} objects",
                    "PDF terlalu besar",
                )
            names: set[str] = set()
            for number in range(1, size):
                _names_in(reader.get_object(number), names, 0)
    except DocumentRefusedError:
        raise
    except Exception as exc:  # any parser failure: "not a valid PDF"
        raise _refused(
            field, f"the PDF cannot be parsed: {type(exc).__name__}", "PDF rusak"
        ) from None
    if pages < 1:
        raise _refused(field, "the PDF has no page", "PDF tanpa halaman")
    _refuse_active(names, field)
    return pages


def _names_in(found: object, names: set[str], depth: int) -> None:
    """The names of one object: its keys and name values, and those of the dictionaries and
    arrays written inside it (indirect ones are visited by their own number)."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    if depth > 64:
        return
    if isinstance(found, DictionaryObject):
        names.update(str(k) for k in found)
        for value in found.values():  # .values() does not resolve indirect references
            _names_in(value, names, depth + 1)
    elif isinstance(found, ArrayObject):
        for value in found:
            _names_in(value, names, depth + 1)
    elif isinstance(found, NameObject):
        names.add(str(found))


def _raw_names(data: bytes) -> set[str]:
    """Every name token in the file's uncompressed bytes, `#xx` escapes decoded (a reader
    repairing a broken cross-reference table finds objects the parser did not)."""
    return {
        _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), token).decode("latin-1")
        for token in _NAME_TOKEN.findall(data)
    }


def _refuse_active(names: set[str], field: str) -> None:
    active = sorted(names & _ACTIVE_NAMES)
    if active:
        raise _refused(
            field,
            f"the PDF carries active content ({', '.join(active)}): scripts, actions and "
            "embedded files are refused",
            "PDF memuat skrip, aksi atau berkas sisipan",
        )
