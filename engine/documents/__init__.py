"""Issued documents' machinery without a database: the PDF and the regions' signing keys.

The front door (STYLE habit 13): `render_pdf` and `DocumentContent` (the page), `KeyStore`
(private keys in a directory, see `_keys` for where and why), `signature_valid`. The use
cases that number, store, verify and revoke documents are in `engine/services/documents.py`.
"""

from engine.documents._keys import (
    DocumentSettings,
    KeyStore,
    NewKey,
    public_hex,
    signature_valid,
)
from engine.documents._pdf import DocumentContent, render_pdf

__all__ = [
    "DocumentContent",
    "DocumentSettings",
    "KeyStore",
    "NewKey",
    "public_hex",
    "render_pdf",
    "signature_valid",
]
