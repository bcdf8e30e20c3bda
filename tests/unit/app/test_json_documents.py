"""Reading outside JSON: every way a document can be unreadable is one error, never a crash."""

from __future__ import annotations

import pytest

from chalicelib.json_documents import UnreadableJsonError, read_json


def test_a_document_is_read_from_bytes_or_text() -> None:
    assert read_json(b'{"a": [1, 2]}') == {"a": [1, 2]}
    assert read_json('{"a": null}') == {"a": None}


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{", "JSONDecodeError"),
        (b'"\xff"', "UnicodeDecodeError"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        # Python refuses to convert integers past 4,300 digits with a plain ValueError.
        (b'{"price": ' + b"9" * 5000 + b"}", "ValueError"),
    ],
    ids=["syntax", "utf-8", "depth", "long integer"],
)
def test_every_unreadable_document_is_one_error(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableJsonError, match=reason):
        read_json(data)
