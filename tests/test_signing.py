"""Signatures (issue #25): bundles sign their PDFs with pyHanko; verify checks each signature
and the signer. A throwaway key and certificate are made in the test."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from test_distribute import rewrite, run
from test_handling import make_canary_project

PASSWORD_ENV = "BRIEFGEN_TEST_SIGNING_PASSWORD"
BUNDLE = Path("output") / "bundles" / "study-group-1.0.zip"


def make_identity(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed RSA certificate and its key, as a PKCS#12 file (password 'secret') and
    a PEM certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False,
                                         False, False), critical=True)
            .sign(key, hashes.SHA256()))
    p12 = folder / f"{name.replace(' ', '-')}.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        name.encode(), key, cert, None,
        serialization.BestAvailableEncryption(b"secret")))
    pem = folder / f"{name.replace(' ', '-')}.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p12, pem


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> tuple[Path, Path, Path]:
    base = tmp_path_factory.mktemp("signed")
    root = make_canary_project(base / "p")
    keys = base / "keys"
    keys.mkdir()
    p12, pem = make_identity(keys, "Briefing Desk")
    _, other_pem = make_identity(keys, "Someone Else")
    config = root / "briefgen.yaml"
    config.write_text(config.read_text() + f"signing:\n  pkcs12: {p12}\n"
                      f"  password_env: {PASSWORD_ENV}\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, "secret")
        proc = run(root, "bundle", "--audience", "study-group", "--build")
    assert proc.returncode == 0, proc.stderr
    return root, pem, other_pem


def test_a_signed_bundle_verifies_and_names_its_signer(signed):
    root, pem, _ = signed
    proc = run(root, "verify", str(BUNDLE))
    assert proc.returncode == 0, proc.stderr
    assert "ok       alpha.pdf (signed by Common Name: Briefing Desk)" in proc.stdout
    trusted = run(root, "verify", str(BUNDLE), "--trust", str(pem))
    assert trusted.returncode == 0, trusted.stderr
    with zipfile.ZipFile(root / BUNDLE) as archive:
        manifest = json.loads(archive.read("study-group-1.0/manifest.json"))
        pdf = archive.read("study-group-1.0/alpha.pdf")
    assert manifest["signer"]["name"] == "Briefing Desk"
    from pyhanko.pdf_utils.reader import PdfFileReader
    signature = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0]
    assert "Briefing Desk" in str(signature.sig_object["/Reason"])
    assert "edition 1.0" in str(signature.sig_object["/Reason"])


def test_verify_fails_for_another_signer_or_a_changed_signed_pdf(signed, tmp_path):
    root, _, other_pem = signed
    assert run(root, "verify", str(BUNDLE), "--trust", str(other_pem)).returncode == 1
    # Re-sign the pack with another key and fix every hash: only the signer gives it away.
    from briefgen.distribute.sign import load_signer, sign_pdf
    from briefgen.loading import load_project
    keys = tmp_path / "keys"
    keys.mkdir()
    other_p12, _ = make_identity(keys, "Forger")
    import dataclasses
    project = load_project(root)
    config = project.config.model_copy(update={"signing": project.config.signing.model_copy(
        update={"pkcs12": str(other_p12)})})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(PASSWORD_ENV, "secret")
        forger = load_signer(dataclasses.replace(project, config=config))
    assert forger is not None
    forged = sign_pdf((root / "output" / "study-group" / "alpha.pdf").read_bytes(), forger,
                      "1.0")
    bundle = tmp_path / "forged.zip"
    bundle.write_bytes((root / BUNDLE).read_bytes())
    with zipfile.ZipFile(bundle) as archive:
        sums = archive.read("study-group-1.0/SHA256SUMS").decode()
        manifest = json.loads(archive.read("study-group-1.0/manifest.json"))
        old = archive.read("study-group-1.0/alpha.pdf")
    new_digest = hashlib.sha256(forged).hexdigest()
    sums = sums.replace(hashlib.sha256(old).hexdigest(), new_digest)
    for entry in manifest["files"]:
        if entry["file"] == "alpha.pdf":
            entry["sha256"] = new_digest
    rewrite(bundle, {"study-group-1.0/alpha.pdf": forged,
                     "study-group-1.0/SHA256SUMS": sums.encode(),
                     "study-group-1.0/manifest.json": json.dumps(manifest).encode()})
    proc = run(root, "verify", str(bundle))
    assert proc.returncode == 1
    assert "BADSIG   alpha.pdf (signed with a certificate other than the bundle's signer)" \
        in proc.stderr
    # One byte changed inside the signed range: the hash and the signature both fail.
    data = bytearray(old)
    at = data.index(b"/Producer")
    data[at + 1] ^= 0x20
    rewrite(bundle, {"study-group-1.0/alpha.pdf": bytes(data)})
    assert "CHANGED  alpha.pdf" in run(root, "verify", str(bundle)).stderr


def test_signing_needs_its_password_variable_and_says_so(signed, tmp_path, monkeypatch):
    root, _, _ = signed
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    before = (root / BUNDLE).read_bytes()
    proc = run(root, "bundle", "--audience", "study-group")
    assert proc.returncode == 1
    assert (f"briefgen.yaml: error: signing: the environment variable {PASSWORD_ENV} is not "
            "set") in proc.stderr
    assert "Traceback" not in proc.stderr
    assert (root / BUNDLE).read_bytes() == before           # the signed bundle stays


def test_numbered_copies_are_signed_after_the_copy_line_is_stamped(signed, monkeypatch):
    root, pem, _ = signed
    (root / "group.yaml").write_text("- Ana Lima\n- Ben Okri\n")
    assert run(root, "build", "--audience", "restricted").returncode == 0
    monkeypatch.setenv(PASSWORD_ENV, "secret")
    proc = run(root, "bundle", "--audience", "restricted", "--recipients", "group.yaml")
    assert proc.returncode == 0, proc.stderr
    folder = Path("output") / "bundles" / "restricted-1.0"
    ok = run(root, "verify", str(folder), "--trust", str(pem))
    assert ok.returncode == 0, ok.stderr
    assert "ok       02-ben-okri.zip:alpha.pdf (signed by" in ok.stdout
    import pypdf
    with zipfile.ZipFile(root / folder / "02-ben-okri.zip") as archive:
        pdf = archive.read("02-ben-okri/alpha.pdf")
    assert "Copy 2 of 2 · Ben Okri" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
