"""What an uploaded document is, from its content alone: the accepted types proved by a parse,
and the attack set refused with the document named (issue #14 item 4)."""

from __future__ import annotations

import pytest

from engine.domain.document_content import JPEG, PDF, PNG, inspect
from engine.domain.errors import DocumentRefusedError, DocumentTooLargeError
from tests.support import uploaded_files as d

LIMIT = 2 * 1024 * 1024


def refused(data: bytes) -> str:
    with pytest.raises(DocumentRefusedError) as caught:
        inspect(data, field="ktp", max_bytes=LIMIT)
    assert [p.field for p in caught.value.problems] == ["ktp"]
    return caught.value.problems[0].message


@pytest.mark.parametrize(
    ("make", "media_type"), [(d.pdf, PDF), (d.jpeg, JPEG), (d.png, PNG)]
)
def test_a_pdf_jpeg_or_png_is_taken_by_its_content(make, media_type) -> None:
    data = make()
    found = inspect(data, field="ktp", max_bytes=LIMIT)
    assert (found.media_type, found.size) == (media_type, len(data))
    if media_type == PDF:
        assert found.pages == 1
    else:
        assert (found.width, found.height) == (40, 30)


def test_the_name_and_declared_type_play_no_part_a_text_file_is_refused() -> None:
    assert "not a PDF, JPEG or PNG" in refused(b"MZ\x90\x00 this is a program, named ktp.pdf")
    assert "not a PDF, JPEG or PNG" in refused(b"<html><script>alert(1)</script></html>")
    # A PDF header not at the start (readers look 1 KB in) is no PDF here.
    assert "not a PDF, JPEG or PNG" in refused(b"junk" + d.pdf())


def test_zero_bytes_are_refused() -> None:
    assert "empty" in refused(b"")


def test_over_the_limit_is_too_large_naming_the_document() -> None:
    with pytest.raises(DocumentTooLargeError) as caught:
        inspect(d.pdf(), field="str", max_bytes=100)
    assert caught.value.problems[0].field == "str"


@pytest.mark.parametrize(
    "make", [d.pdf_with_javascript, d.pdf_with_attachment, d.pdf_with_escaped_javascript]
)
def test_a_pdf_with_scripts_or_embedded_files_is_refused(make) -> None:
    assert "active content" in refused(make())


def test_a_hex_escaped_script_is_found_by_the_parse_too() -> None:
    from engine.domain import document_content

    data = d.pdf_with_escaped_javascript()
    assert b"/JavaScript" not in data  # a byte search alone would not see it
    names = document_content._raw_names(data)
    assert "/JavaScript" in names


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (d.pdf() + d.ZIP, "does not end at its last %%EOF"),
        (d.png() + d.ZIP, "data follows the PNG's end"),
        (d.jpeg() + d.pdf(), "end-of-image"),
        (d.jpeg()[:-2] + b"%PDF-1.7 hidden" + b"\xff\xd9", "another format"),
        (d.png()[:-12] + d.chunk(b"tEXt", b"c\x00<script>x</script>") + d.png()[-12:],
         "another format"),
    ],
    ids=["pdf+zip", "png+zip", "jpeg+pdf", "pdf-inside-jpeg", "html-inside-png"],
)
def test_polyglots_are_refused(data: bytes, why: str) -> None:
    assert why in refused(data)


@pytest.mark.parametrize("side", [7_000, 100_000])
def test_an_image_bomb_is_refused_before_it_is_decoded(side: int) -> None:
    # 7,000 a side is over our bound but under Pillow's own; 100,000 is over both.
    assert "image bomb" in refused(d.png_bomb(side))


@pytest.mark.parametrize(
    "data",
    [d.pdf()[: len(d.pdf()) // 2] + b"%%EOF", d.jpeg()[:100] + b"\xff\xd9", d.png()[:60]],
    ids=["pdf", "jpeg", "png"],
)
def test_a_truncated_or_broken_file_is_refused(data: bytes) -> None:
    refused(data)


def test_an_encrypted_pdf_is_refused_it_cannot_be_inspected() -> None:
    import io

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=100, height=100)
    writer.encrypt("secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    assert "encrypted" in refused(out.getvalue())


def test_the_standard_s_requirement_codes_and_archive_rule_are_checked_at_upload() -> None:
    import json

    from engine.modeling.documents import read_standard

    def problems(standard: dict) -> list[str | None]:
        return [p.field for p in read_standard(json.dumps(standard).encode())[1]]

    assert problems({"requirements": ["KTP", {"code": "ktp"}], "archive": {"retention_years": 5}}) == []
    assert problems({"requirements": [{"code": "KTP/../x"}, {"code": "a"}, {"code": "a"}]}) == [
        "requirements/0/code", "requirements/2/code"]
    assert problems({"archive": {"retention_years": "10"}}) == ["archive/retention_years"]
    assert problems({"archive": {"retention_years": 0}}) == ["archive/retention_years"]
