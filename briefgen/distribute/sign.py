"""PDF signatures for what leaves in a bundle, with pyHanko.

With `signing:` in briefgen.yaml (a PKCS#12 file, and the name of the environment variable
holding its password), `briefgen bundle` signs every PDF it puts in a bundle or a numbered
copy, after the copy line is stamped, so the signature covers the copy as handed out. The
reason names the signer and the edition. The bundle's manifest.json records the signing
certificate's SHA-256, and `verify` checks each signed PDF: the signature is intact and
cryptographically valid, covers the whole file, and was made with that certificate (or with
the one given to `verify --trust`).

A signature says when it was made, so a signed bundle is not byte-for-byte the same from one
run to the next; an unsigned one is. The key file is the one file outside the project that
briefgen may read (keys do not belong in a repository), and only `bundle` reads it.
Nothing goes over the network: no timestamp authority, no revocation fetching.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from briefgen.errors import error
from briefgen.model import CONFIG_FILE, Project


@dataclass(frozen=True)
class Signer:
    signer: Any            # pyhanko.sign.signers.SimpleSigner
    name: str              # who signs, as the reason says it
    certificate_sha256: str


def load_signer(project: Project) -> Signer | None:
    """The project's signer, or None without `signing:`. Every problem is located at
    briefgen.yaml's `signing:` and says what to do."""
    config = project.config.signing
    if config is None:
        return None
    from pyhanko.sign import signers

    where = CONFIG_FILE
    password = os.environ.get(config.password_env)
    if password is None:
        raise error(where, f"signing: the environment variable {config.password_env} is not "
                    "set", hint=f"export {config.password_env}=... (the PKCS#12 file's "
                    "password) before bundling, or remove 'signing:'")
    path = Path(config.pkcs12).expanduser()
    path = path if path.is_absolute() else project.root / path
    from briefgen.yamlio import read_bytes

    data = read_bytes(path, config.pkcs12)
    try:
        signer = signers.SimpleSigner.load_pkcs12_data(data, other_certs=(),
                                                       passphrase=password.encode())
    except (ValueError, TypeError) as exc:
        raise error(where, f"signing: cannot open {config.pkcs12} ({exc})",
                    hint="check the file is a PKCS#12 (.p12/.pfx) with a key and its "
                         f"certificate, and that {config.password_env} holds its password"
                    ) from None
    if signer is None or signer.signing_cert is None:
        raise error(where, f"signing: {config.pkcs12} holds no key and certificate",
                    hint="export the key with its certificate into the PKCS#12 file")
    cert = signer.signing_cert
    name = config.signer or cert.subject.native.get("common_name") or cert.subject.human_friendly
    return Signer(signer, str(name), hashlib.sha256(cert.dump()).hexdigest())


def sign_pdf(data: bytes, signer: Signer, edition: str) -> bytes:
    """`data` signed as an incremental update (the pages are untouched)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name="BriefgenSignature", reason=f"Issued by {signer.name}, edition {edition}",
        name=signer.name, md_algorithm="sha256")
    out = signers.sign_pdf(writer, meta, signer=signer.signer)
    return bytes(out.getvalue())


@dataclass(frozen=True)
class Checked:
    ok: bool
    detail: str     # "signed by NAME" or what is wrong


def check_signatures(data: bytes, expected_sha256: str | None,
                     trusted: bytes | None = None) -> Checked | None:
    """None for an unsigned PDF; else whether every signature is intact, valid, covers the
    whole file and was made with the expected certificate."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - any parse failure of a damaged file
        return Checked(False, f"cannot read its signatures ({type(exc).__name__})")
    if not signatures:
        return None
    last = len(signatures) - 1
    for index, embedded in enumerate(signatures):
        cert = embedded.signer_cert
        digest = hashlib.sha256(cert.dump()).hexdigest()
        if trusted is not None and cert.dump() != trusted:
            return Checked(False, "signed with a certificate other than the trusted one")
        if expected_sha256 is not None and digest != expected_sha256:
            return Checked(False, "signed with a certificate other than the bundle's signer")
        context = ValidationContext(trust_roots=[cert], allow_fetching=False,
                                    revocation_mode="soft-fail")
        try:
            status = validate_pdf_signature(embedded, context)
        except Exception as exc:  # noqa: BLE001 - pyHanko raises many kinds on bad input
            return Checked(False, f"signature cannot be validated ({type(exc).__name__})")
        if not (status.intact and status.valid):
            return Checked(False, "signature does not match the file")
        if index == last and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            return Checked(False, "changed after it was signed")
    name = signatures[last].signer_cert.subject.human_friendly
    return Checked(True, f"signed by {name}")


def read_certificate(path: Path) -> bytes:
    """A certificate file (PEM or DER) as DER bytes, or a located error."""
    from asn1crypto import pem, x509  # type: ignore[import-untyped]

    from briefgen.yamlio import read_bytes

    data = read_bytes(path, str(path))
    if pem.detect(data):
        _, _, data = pem.unarmor(data)
    try:
        return bytes(x509.Certificate.load(data).dump())
    except (ValueError, TypeError):
        raise error(path, "not an X.509 certificate",
                    hint="give the signer's certificate as a PEM or DER file") from None
