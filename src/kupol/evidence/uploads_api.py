"""Resumable uploads over HTTP: the tus 1.0.0 protocol (https://tus.io/protocols/resumable-upload)
with its creation, creation-with-upload, termination, checksum and expiration extensions, at
``/api/evidence/uploads``. Any tus client (tus-js-client, tuspy, tusd's tools) works; the
evidence metadata travels in ``Upload-Metadata`` and the file's SHA-256, when given there as
``sha256``, is checked when the last byte arrives."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from email.utils import format_datetime

from fastapi import APIRouter, Request, Response
from starlette.requests import ClientDisconnect

from kupol.api.deps import get_principal
from kupol.api.problems import problem
from kupol.core.auth import Permission, Principal
from kupol.core.errors import InvalidInputError, KupolError
from kupol.evidence.service import EvidenceVault, Metadata
from kupol.evidence.uploads import (
    CHECKSUMS,
    EXTENSIONS,
    TUS_VERSION,
    Upload,
    parse_checksum,
    parse_metadata,
)

router = APIRouter(prefix="/api/evidence/uploads", tags=["evidence"])
OFFSET_STREAM = "application/offset+octet-stream"
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
DIGITS = re.compile(r"^[0-9]{1,20}$")
TUS = {"Tus-Resumable": TUS_VERSION}


def _header(
    name: str, description: str, *, required: bool = False, **schema: object
) -> dict[str, object]:
    """A request header as OpenAPI describes it."""
    return {"name": name, "in": "header", "required": required, "description": description,
            "schema": {"type": "string", **schema}}  # fmt: skip


# The tus headers read from the request, and the answers without a body, for the OpenAPI
# description (the handlers read raw headers, so FastAPI cannot see them).
VERSION_HEADER = _header(
    "Tus-Resumable", "The protocol version.", required=True, enum=[TUS_VERSION]
)
TUS_RESPONSES: dict[int | str, dict[str, object]] = {
    412: {"description": "Tus-Resumable is missing or names another version (no body)."}
}
NO_BODY: dict[str, object] = {"description": "Done; the state is in the tus headers (no body)."}


def _vault(request: Request) -> EvidenceVault:
    vault: EvidenceVault = request.app.state.container.evidence
    return vault


def _user(request: Request) -> Principal:
    user = get_principal(request, request.app.state.container)
    user.require(Permission.EVIDENCE_INGEST)
    return user


def _int_header(request: Request, name: str) -> int:
    value = request.headers.get(name)
    if value is None or not DIGITS.match(value):
        raise InvalidInputError(f"{name} must be given as a whole number of bytes")
    return int(value)


def _state_headers(upload: Upload) -> dict[str, str]:
    headers = {
        **TUS,
        "Upload-Offset": str(upload.offset),
        "Upload-Length": str(upload.length),
        "Upload-Expires": format_datetime(datetime.fromisoformat(upload.expires_at), usegmt=True),
        "Cache-Control": "no-store",
    }
    if upload.item_id is not None:
        headers["X-Evidence-Item"] = str(upload.item_id)
        headers["X-Evidence-Duplicate"] = "true" if upload.duplicate else "false"
    return headers


async def _tus(
    request: Request, handle: Callable[[Principal | None], Awaitable[Response]]
) -> Response:
    """Run a tus request: the protocol version checked, errors as problems with tus headers."""
    try:
        user = None
        if request.method != "OPTIONS":
            user = _user(request)  # who asks first: an anonymous caller learns nothing more
            if request.headers.get("tus-resumable") != TUS_VERSION:
                return Response(status_code=412, headers={**TUS, "Tus-Version": TUS_VERSION})
        return await handle(user)
    except KupolError as exc:
        return problem(
            exc.status,
            exc.title,
            exc.detail,
            type_=exc.type_slug,
            instance=request.url.path,
            headers=TUS,
            code=exc.code,
        )


async def _write(
    request: Request, upload: Upload, user: Principal, *, offset: int | None = None
) -> Upload:
    """Append the request's body at ``Upload-Offset``; when the upload is complete, put it in
    the vault."""
    vault = _vault(request)
    if request.headers.get("content-type", "").split(";")[0].strip() != OFFSET_STREAM:
        raise InvalidInputError(f"a PATCH carries Content-Type: {OFFSET_STREAM}")
    if offset is None:
        offset = _int_header(request, "Upload-Offset")
    checksum = parse_checksum(request.headers.get("upload-checksum"))

    async def complete(done: Upload) -> Upload:
        if done.item_id is not None:
            return done
        meta = Metadata.from_fields(done.metadata)
        try:
            found = await asyncio.to_thread(
                vault.ingest_file,
                vault.uploads.part(done.id),
                meta,
                actor=user,
                expected_sha256=done.metadata.get("sha256") or None,
            )
        except InvalidInputError:
            vault.uploads.forget(done.id)  # its bytes were refused and are gone
            raise
        return vault.uploads.finish(done, item_id=found.item.id, duplicate=found.duplicate)

    upload = await vault.uploads.append_async(
        upload.id,
        owner=user.username,
        offset=offset,
        chunks=request.stream(),
        checksum=checksum,
        complete=complete,
    )
    return upload


@router.options("", status_code=204, response_class=Response, responses={204: NO_BODY})
async def discover(request: Request) -> Response:
    """What this server supports (tus discovery)."""

    async def handle(_: Principal | None) -> Response:
        return Response(
            status_code=204,
            headers={
                **TUS,
                "Tus-Version": TUS_VERSION,
                "Tus-Extension": EXTENSIONS,
                "Tus-Max-Size": str(_vault(request).uploads.max_size),
                "Tus-Checksum-Algorithm": ",".join(CHECKSUMS),
            },
        )

    return await _tus(request, handle)


@router.post(
    "",
    status_code=201,
    response_class=Response,
    responses={**TUS_RESPONSES, 201: NO_BODY},
    openapi_extra={
        "parameters": [
            VERSION_HEADER,
            _header(
                "Upload-Length", "The file's size in bytes.", required=True, pattern="^[0-9]{1,20}$"
            ),
            _header("Upload-Metadata", "Comma-separated `key base64value` pairs."),
        ]
    },
)
async def create(request: Request) -> Response:
    """Start an upload of ``Upload-Length`` bytes (evidence.ingest), its metadata checked now;
    a body sent with it (creation-with-upload) is its first bytes."""

    async def handle(user: Principal | None) -> Response:
        assert user is not None  # authenticated by _tus
        length = _int_header(request, "Upload-Length")
        fields = parse_metadata(request.headers.get("upload-metadata"))
        Metadata.from_fields(fields)  # refused now, not after two gigabytes
        if fields.get("sha256") and not SHA256.match(fields["sha256"]):
            raise InvalidInputError("metadata sha256 must be 64 hexadecimal digits")
        vault = _vault(request)
        upload = vault.uploads.create(owner=user.username, length=length, metadata=fields)
        if request.headers.get("content-type", "").startswith(OFFSET_STREAM):
            with contextlib.suppress(ClientDisconnect):
                upload = await _write(request, upload, user, offset=0)
        return Response(
            status_code=201,
            headers={**_state_headers(upload), "Location": f"{router.prefix}/{upload.id}"},
        )

    return await _tus(request, handle)


@router.head(
    "/{upload_id}",
    response_class=Response,
    responses={**TUS_RESPONSES, 200: NO_BODY},
    openapi_extra={"parameters": [VERSION_HEADER]},
)
async def offset(upload_id: str, request: Request) -> Response:
    """How many bytes the server has (resume from there); ``X-Evidence-Item`` once complete."""

    async def handle(user: Principal | None) -> Response:
        assert user is not None  # authenticated by _tus
        upload = _vault(request).uploads.status(upload_id, owner=user.username)
        return Response(status_code=200, headers=_state_headers(upload))

    return await _tus(request, handle)


@router.patch(
    "/{upload_id}",
    status_code=204,
    response_class=Response,
    responses={**TUS_RESPONSES, 204: NO_BODY},
    openapi_extra={
        "parameters": [
            VERSION_HEADER,
            _header(
                "Upload-Offset", "Where these bytes go.", required=True, pattern="^[0-9]{1,20}$"
            ),
            _header("Upload-Checksum", "`sha256|sha1|md5 <base64 digest>` of this chunk."),
        ]
    },
)
async def append(upload_id: str, request: Request) -> Response:
    """Send bytes from ``Upload-Offset`` (``Content-Type: application/offset+octet-stream``,
    ``Upload-Checksum`` optional). What arrives is kept even if the connection drops."""

    async def handle(user: Principal | None) -> Response:
        assert user is not None  # authenticated by _tus
        upload = _vault(request).uploads.status(upload_id, owner=user.username)
        try:
            upload = await _write(request, upload, user)
        except ClientDisconnect:
            return Response(status_code=400, headers=TUS)  # nobody is listening
        return Response(status_code=204, headers=_state_headers(upload))

    return await _tus(request, handle)


@router.delete(
    "/{upload_id}",
    status_code=204,
    response_class=Response,
    responses={**TUS_RESPONSES, 204: NO_BODY},
    openapi_extra={"parameters": [VERSION_HEADER]},
)
async def terminate(upload_id: str, request: Request) -> Response:
    """Abandon an unfinished upload (its bytes are removed)."""

    async def handle(user: Principal | None) -> Response:
        assert user is not None  # authenticated by _tus
        _vault(request).uploads.terminate(upload_id, owner=user.username)
        return Response(status_code=204, headers=TUS)

    return await _tus(request, handle)
