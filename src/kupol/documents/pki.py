"""Digital signatures with X.509 certificates: the deployment's certificate authority, officers'
signing certificates, signing and verification.

An embedded deployment runs its own CA (``<data_dir>/pki/ca.pem``, ECDSA P-256, ten years) and
issues each signing officer a certificate (``kupol documents issue-certificate USER``; ECDSA
P-256 or Ed25519, subject CN = the kupol user name, key usage digitalSignature and
nonRepudiation). The private keys are kept on the server, owner-only, and used when the officer
signs in the console — the simple model; an officer may instead sign on their own device and
send the signature with their certificate (``POST /api/documents/{id}/sign`` with
``certificate`` and ``signature``), which is verified the same way.

Verification (:func:`verify`) needs only the signed bytes, the signature, the signer's
certificate and the trusted CA certificates: the certificate chains to a trusted CA (its
signature checked), was valid at the signing time, may sign (key usage), and the signature
over the bytes verifies with its key.

**Kazakhstan's NCA (GOST 34.10-2015) keys** plug in behind the same two seams: a
:class:`Signer` whose ``algorithm`` is e.g. ``gost34310-2015`` (NCALayer or KalkanCrypt signs),
and a function in :data:`VERIFIERS` for that algorithm; the NCA root certificates join the
trust anchors (``[documents] trust_anchors``). ``cryptography`` has no GOST, so that is an
extension a deployment adds, not built here.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from kupol.core.errors import InvalidInputError, NotFoundError

ALGORITHMS = ("ecdsa-p256-sha256", "ed25519")
USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


class Signer(Protocol):
    """Whatever makes a signature: a key on this server, a token, NCALayer."""

    @property
    def algorithm(self) -> str:
        """The signature algorithm's name, a key of :data:`VERIFIERS`."""
        ...

    @property
    def certificate(self) -> x509.Certificate:
        """The signer's certificate."""
        ...

    def sign(self, data: bytes) -> bytes:
        """The signature of ``data``."""
        ...


@dataclass(frozen=True)
class KeySigner:
    """A signer whose private key is on this server."""

    key: PrivateKey
    certificate: x509.Certificate

    @property
    def algorithm(self) -> str:
        return "ed25519" if isinstance(self.key, ed25519.Ed25519PrivateKey) else ALGORITHMS[0]

    def sign(self, data: bytes) -> bytes:
        if isinstance(self.key, ed25519.Ed25519PrivateKey):
            return self.key.sign(data)
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))


def _verify_ecdsa(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InvalidSignature("the certificate's key is not an ECDSA key")
    key.verify(signature, data, ec.ECDSA(hashes.SHA256()))


def _verify_ed25519(cert: x509.Certificate, signature: bytes, data: bytes) -> None:
    key = cert.public_key()
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise InvalidSignature("the certificate's key is not an Ed25519 key")
    key.verify(signature, data)


VERIFIERS: dict[str, Callable[[x509.Certificate, bytes, bytes], None]] = {
    "ecdsa-p256-sha256": _verify_ecdsa,
    "ed25519": _verify_ed25519,
}
"""Signature checks by algorithm name: a GOST verifier is added here (see the module's doc)."""


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, in hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def load_certificate(pem: str | bytes) -> x509.Certificate:
    """A PEM certificate, or InvalidInputError."""
    try:
        return x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
    except ValueError:
        raise InvalidInputError("the certificate is not a PEM X.509 certificate") from None


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """What :func:`verify` found."""

    ok: bool
    reason: str
    signer: str = ""
    certificate_sha256: str = ""
    issuer: str = ""


def verify(
    data: bytes,
    *,
    algorithm: str,
    signature: bytes,
    certificate: x509.Certificate,
    anchors: list[x509.Certificate],
    at: dt.datetime,
) -> Verdict:
    """Check a signature over ``data`` and its certificate against the trusted CAs."""
    signer, print_ = common_name(certificate), fingerprint(certificate)

    def no(reason: str) -> Verdict:
        return Verdict(ok=False, reason=reason, signer=signer, certificate_sha256=print_)

    issuer = next((a for a in anchors if a.subject == certificate.issuer), None)
    if issuer is None:
        return no(
            f"the certificate's issuer ({certificate.issuer.rfc4514_string()}) is not trusted"
        )
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return no("the certificate was not issued by the trusted CA of that name (forged)")
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        return no(
            f"the certificate was not valid at the signing time {at:%Y-%m-%d %H:%M} UTC "
            f"(valid {certificate.not_valid_before_utc:%Y-%m-%d} to "
            f"{certificate.not_valid_after_utc:%Y-%m-%d})"
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        if not usage.digital_signature:
            return no("the certificate may not sign documents (key usage)")
    except x509.ExtensionNotFound:
        return no("the certificate has no key usage: it may not sign documents")
    check = VERIFIERS.get(algorithm)
    if check is None:
        return no(f"signature algorithm {algorithm!r} is not supported here")
    try:
        check(certificate, signature, data)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError) as exc:
        return no(str(exc) or "the signature does not match the document (changed or forged)")
    return Verdict(
        ok=True,
        reason="the signature is valid",
        signer=signer,
        certificate_sha256=print_,
        issuer=issuer.subject.rfc4514_string(),
    )


class Authority:
    """The deployment's CA and the officers' keys under ``root`` (``<data_dir>/pki``)."""

    def __init__(self, root: Path, *, extra_anchors: list[Path] | None = None) -> None:
        self.root = root
        self._extra = extra_anchors or []
        self._ca: tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None = None

    def _write_private(self, path: Path, key: PrivateKey) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)

    def ca(self) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        """The CA's key and certificate, made on first use."""
        if self._ca is not None:
            return self._ca
        key_path, cert_path = self.root / "ca.key", self.root / "ca.pem"
        if not key_path.exists():
            key = ec.generate_private_key(ec.SECP256R1())
            name = x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kupol"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "kupol deployment signing CA"),
                ]
            )
            now = dt.datetime.now(dt.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=3653))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_usage(cert_sign=True), critical=True)
                .sign(key, hashes.SHA256())
            )
            self._write_private(key_path, key)
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        self._ca = (loaded, x509.load_pem_x509_certificate(cert_path.read_bytes()))
        return self._ca

    def anchors(self) -> list[x509.Certificate]:
        """The trusted CAs: this deployment's and any configured (e.g. NCA roots)."""
        found = [self.ca()[1]]
        for path in self._extra:
            found.extend(x509.load_pem_x509_certificates(path.read_bytes()))
        return found

    def _user_paths(self, username: str) -> tuple[Path, Path]:
        if not USERNAME.match(username):
            raise InvalidInputError(f"{username[:40]!r} is not a user name")
        return self.root / "users" / f"{username}.key", self.root / "users" / f"{username}.pem"

    def issue(
        self, username: str, *, algorithm: str = ALGORITHMS[0], days: int = 365
    ) -> x509.Certificate:
        """A new signing key and certificate for ``username`` (replacing an older one)."""
        if algorithm not in ALGORITHMS:
            raise InvalidInputError(f"algorithm must be one of {', '.join(ALGORITHMS)}")
        if not 1 <= days <= 3 * 365:
            raise InvalidInputError("a certificate is valid 1 to 1,095 days")
        ca_key, ca_cert = self.ca()
        key: PrivateKey = (
            ed25519.Ed25519PrivateKey.generate()
            if algorithm == "ed25519"
            else ec.generate_private_key(ec.SECP256R1())
        )
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "kupol"),
                        x509.NameAttribute(NameOID.COMMON_NAME, username),
                    ]
                )
            )
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key_path, cert_path = self._user_paths(username)
        key_path.unlink(missing_ok=True)
        self._write_private(key_path, key)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert

    def certificate(self, username: str) -> x509.Certificate | None:
        """``username``'s signing certificate, if one was issued."""
        cert_path = self._user_paths(username)[1]
        return (
            x509.load_pem_x509_certificate(cert_path.read_bytes()) if cert_path.exists() else None
        )

    def signer(self, username: str) -> KeySigner:
        """``username``'s signer (their key on this server)."""
        key_path, cert_path = self._user_paths(username)
        if not key_path.exists() or not cert_path.exists():
            raise NotFoundError(
                f"{username} has no signing certificate: an administrator issues one "
                f"(kupol documents issue-certificate {username})",
                code="no_certificate",
            )
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey)
        return KeySigner(key, x509.load_pem_x509_certificate(cert_path.read_bytes()))


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=not cert_sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
