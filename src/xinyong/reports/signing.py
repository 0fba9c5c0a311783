"""PAdES signatures (pyHanko) on report PDFs, and their verification.

The platform signs every report with its key and certificate (a deployment's own, from
XINYONG_REPORT_KEY / XINYONG_REPORT_CERT; without them a demo key and a self-signed certificate are made
under XINYONG_HOME/reports on first use — never committed, never shipped). Verification trusts exactly the
configured certificate and XINYONG_REPORT_TRUSTED_CERTS: a report signed by any other key is named as such.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from xinyong.reports.settings import ReportSettings

FIELD = "XinyongReportSignature"


def make_demo_keys(key_file: Path, cert_file: Path, *, issuer: str, now: dt.datetime) -> None:
    """A P-256 key and a self-signed certificate valid for 10 years, for a demo or a test home."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, issuer[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, "Xinyong demo report signing (演示用)"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, True, False, False, False), critical=True
        )
        .sign(key, hashes.SHA256())
    )
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_keys(settings: ReportSettings, *, now: dt.datetime) -> None:
    if settings.demo_keys and not (settings.key_file.exists() and settings.cert_file.exists()):
        make_demo_keys(settings.key_file, settings.cert_file, issuer=settings.issuer, now=now)


@lru_cache(maxsize=4)
def _signer(key_file: Path, cert_file: Path, password: bytes | None, _mtime: float) -> signers.SimpleSigner:
    signer = signers.SimpleSigner.load(str(key_file), str(cert_file), key_passphrase=password)
    if signer is None:
        raise ValueError(f"cannot load the report signing key {key_file} or certificate {cert_file}")
    return signer


def signer_for(settings: ReportSettings) -> signers.SimpleSigner:
    return _signer(
        settings.key_file, settings.cert_file, settings.key_password, settings.key_file.stat().st_mtime
    )


def cert_sha256(cert: asn1_x509.Certificate) -> str:
    return hashlib.sha256(cert.dump()).hexdigest()


def sign_pdf(pdf: bytes, settings: ReportSettings, *, number: str) -> tuple[bytes, str]:
    """The PDF signed as PAdES B-B over the whole file; and the signing certificate's SHA-256."""
    signer = signer_for(settings)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD,
        reason=f"信用报告 {number}",
        location=settings.public_url,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    out = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue(), cert_sha256(signer.signing_cert)


@lru_cache(maxsize=8)
def _load_cert(path: Path, _mtime: float) -> asn1_x509.Certificate:
    return load_cert_from_pemder(str(path))


def trusted_certs(settings: ReportSettings) -> list[asn1_x509.Certificate]:
    paths = [settings.cert_file, *settings.trusted_certs]
    return [_load_cert(p, p.stat().st_mtime) for p in paths if p.exists()]


@dataclass(frozen=True)
class SignatureCheck:
    reason: str  # ok, not_pdf, not_signed, modified, other_key
    title: str | None = None  # the PDF's title as signed (it carries the report number)
    signer_sha256: str | None = None


def check_signature(data: bytes, settings: ReportSettings) -> SignatureCheck:
    """Whether `data` is a PDF signed by the platform's key over every byte, untouched since."""
    if not data.startswith(b"%PDF-"):
        return SignatureCheck("not_pdf")
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        title = _title(reader)
        signatures = reader.embedded_signatures
    except Exception:  # pyHanko raises many kinds on a damaged file: any of them means changed bytes
        return SignatureCheck("modified")
    if not signatures:
        return SignatureCheck("not_signed", title)
    sig = signatures[-1]
    trusted = trusted_certs(settings)
    try:
        status = validate_pdf_signature(
            sig, ValidationContext(trust_roots=trusted, allow_fetching=False, revocation_mode="soft-fail")
        )
    except Exception:
        return SignatureCheck("modified", title)
    signer = cert_sha256(status.signing_cert) if status.signing_cert is not None else None
    if not status.intact or not status.valid or status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SignatureCheck("modified", title, signer)
    if signer not in {cert_sha256(c) for c in trusted}:
        return SignatureCheck("other_key", title, signer)
    return SignatureCheck("ok", title, signer)


def _title(reader: PdfFileReader) -> str | None:
    info = reader.trailer_view.get("/Info")
    if info is None:
        return None
    title = info.get_object().get("/Title")
    return str(title) if title is not None else None
