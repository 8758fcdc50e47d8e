"""Shared helpers of the hostile-input suite (tests/test_hostile_*.py): canaries, a PDF
haystack that sees raw bytes, streams, text and attachments, and a loopback listener that
counts connections."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pypdf

FIXTURE = Path(__file__).parent / "fixtures" / "basic"
SECRET = "SECRET-CANARY-7f3a9c"     # only ever in files outside the project
CONTROL = "CONTROL-CANARY-51e2d0"   # in a file inside the project: the detector must see it
ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


# --- helpers ----------------------------------------------------------------------------------


def jpeg(marker: str) -> bytes:
    """A tiny JPEG whose comment segment holds `marker`; PDFs embed JPEGs byte for byte."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "JPEG")
    data, comment = buffer.getvalue(), marker.encode()
    return data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]


def haystack(data: bytes) -> str:
    """Everything a reader could get out of a PDF: raw bytes, every stream decompressed,
    page text, metadata and attachments."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    parts = [data.decode("latin-1"), str(reader.metadata)]
    parts += [page.extract_text() for page in reader.pages]
    for name, contents in reader.attachments.items():
        parts.append(name)
        parts += [c.decode("latin-1") for c in contents]
    for number in range(1, int(reader.trailer["/Size"])):
        try:
            obj = reader.get_object(number)
        except Exception:  # noqa: BLE001 - free or odd objects: the raw bytes cover them
            continue
        if isinstance(obj, pypdf.generic.StreamObject):
            try:
                parts.append(obj.get_data().decode("latin-1"))
            except Exception:  # noqa: BLE001
                continue
    return "\n".join(parts)


def pdf_text(data: bytes) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def write_note(root: Path, area: str, name: str, body: str, title: str = "Hostile note") -> Path:
    path = root / "sources" / area / name
    path.write_text(f"---\ntitle: {json.dumps(title)}\norder: 50\n---\n{body}\n")
    return path


def add_audience(root: Path, name: str, css: str) -> Path:
    folder = root / "styles" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "audience.yaml").write_text(f"title: {name} readers\nclearance: CLEAR\n")
    (folder / "style.css").write_text(css)
    return folder


def run_cli(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=timeout, check=False)


class Listener:
    """A loopback TCP listener that counts connections; it stops itself after `lifetime`."""

    def __init__(self, lifetime: float = 180) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.connections += 1
            conn.close()
        self.sock.close()

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}/{path}"

    def stop(self) -> int:
        time.sleep(0.3)  # let a late connection attempt arrive before counting
        self._stop.set()
        self._thread.join(5)
        return self.connections


def secrets_outside(base: Path) -> Path:
    """Files next to (not inside) the project, each holding the secret marker."""
    outside = base / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "secret.jpg").write_bytes(jpeg(SECRET))
    (outside / "secret.txt").write_text(f"{SECRET}\n")
    (outside / "secret.ttf").write_text(f"{SECRET}\n")
    (outside / "evil.css").write_text(f'body::after {{ content: "{SECRET}"; }}\n')
    (outside / "secret.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="20">'
        f'<text id="t" x="0" y="15">{SECRET}</text></svg>')
    (outside / "secret-note.md").write_text(f"---\ntitle: {SECRET}\n---\n{SECRET}\n")
    return outside
