"""Hostile tus headers (``Upload-Metadata``, ``Upload-Checksum``) and evidence metadata from
them: read or refused with a domain error, never a raw exception."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from kupol.evidence.service import Metadata
from kupol.evidence.uploads import parse_checksum, parse_metadata
from tests.unit.fuzzing import FUZZ, HOSTILE_STRINGS, hostile, refused_or_read


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


METADATA = (
    f"filename {b64('shift.mp4')},filetype {b64('video/mp4')},category {b64('bodycam')},"
    f"device_id {b64('badge-0042')},started_at {b64('2026-12-03T08:00:00+05:00')},"
    f"sha256 {b64('0' * 64)},is_confidential"
)
CHECKSUM = f"sha256 {base64.b64encode(bytes(32)).decode()}"
FIELDS = st.dictionaries(
    st.sampled_from(["filename", "filetype", "category", "device_id", "officer", "started_at",
                     "ended_at", "case_number", "description", "sha256", "x"]),
    st.text(max_size=40) | st.sampled_from(HOSTILE_STRINGS),
)  # fmt: skip


def latin1(data: bytes) -> str:
    """Bytes as an HTTP header's value reaches the app (Latin-1)."""
    return data.decode("latin-1")


@FUZZ
@given(header=hostile(METADATA.encode(), noise=", =+/\x00é"))
def test_a_hostile_upload_metadata_header_is_read_or_refused(header: bytes) -> None:
    fields = refused_or_read(lambda: parse_metadata(latin1(header)))
    if fields is not None:
        refused_or_read(lambda: Metadata.from_fields(fields))


@FUZZ
@given(header=hostile(CHECKSUM.encode(), noise=" =+/"))
def test_a_hostile_upload_checksum_header_is_read_or_refused(header: bytes) -> None:
    refused_or_read(lambda: parse_checksum(latin1(header)))


@FUZZ
@given(fields=FIELDS)
def test_hostile_metadata_fields_are_evidence_metadata_or_refused(fields: dict[str, str]) -> None:
    refused_or_read(lambda: Metadata.from_fields(fields))
