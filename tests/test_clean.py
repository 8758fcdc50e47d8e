"""briefgen clean: removes what the manifest says briefgen wrote, and nothing else."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from briefgen.commands import main
from briefgen.distribute.manifest import entry_from


def _project(tmp_path: Path) -> Path:
    (tmp_path / "briefgen.yaml").write_text("title: t\n")
    out = tmp_path / "output"
    packs = []
    for audience, area, new_shape in (("analyst", "a", False), ("analyst", "b", True),
                                      ("study-group", "a", False)):
        data = f"%PDF {audience} {area}".encode()
        (out / audience).mkdir(parents=True, exist_ok=True)
        (out / audience / f"{area}.pdf").write_bytes(data)
        entry = {"audience": audience, "area": area, "pages": 1, "input_hash": "x",
                 "sha256": hashlib.sha256(data).hexdigest(), "visible": True}
        if new_shape:
            entry |= {"file": f"{audience}/{area}.pdf", "format": "pdf"}
        else:
            entry["pdf"] = f"{audience}/{area}.pdf"
        packs.append(entry)
    (out / "manifest.json").write_text(json.dumps({"generator": "t", "packs": packs}))
    (out / ".briefgen-state.json").write_text("{}")
    return tmp_path


def test_clean_removes_only_what_briefgen_wrote(tmp_path, capsys):
    root = _project(tmp_path)
    out = root / "output"
    (out / "analyst" / "notes.txt").write_text("mine")          # a user's file
    (out / "study-group" / "a.pdf").write_bytes(b"edited")      # changed since the build
    outside = tmp_path / "elsewhere.pdf"
    outside.write_bytes(b"%PDF analyst b")
    (out / "analyst" / "b.pdf").unlink()
    (out / "analyst" / "b.pdf").symlink_to(outside)             # a link: never followed
    assert main(["-C", str(root), "clean"]) == 0
    assert not (out / "analyst" / "a.pdf").exists()
    assert not (out / "manifest.json").exists()
    assert not (out / ".briefgen-state.json").exists()
    assert (out / "analyst" / "notes.txt").read_text() == "mine"
    assert (out / "study-group" / "a.pdf").read_bytes() == b"edited"
    assert (out / "analyst" / "b.pdf").is_symlink() and outside.exists()
    err = capsys.readouterr().err
    assert "study-group/a.pdf" in err and "analyst/b.pdf" in err


def test_clean_removes_empty_audience_folders_and_is_idempotent(tmp_path):
    root = _project(tmp_path)
    out = root / "output"
    assert main(["-C", str(root), "-q", "clean"]) == 0
    assert out.is_dir() and list(out.iterdir()) == []
    assert main(["-C", str(root), "-q", "clean"]) == 0


def test_clean_refuses_a_manifest_path_out_of_the_folder(tmp_path, capsys):
    root = _project(tmp_path)
    victim = tmp_path / "victim.pdf"
    victim.write_bytes(b"x")
    data = {"packs": [{"audience": "a", "area": "b", "pdf": "../victim.pdf",
                       "sha256": hashlib.sha256(b"x").hexdigest()}]}
    (root / "output" / "manifest.json").write_text(json.dumps(data))
    assert main(["-C", str(root), "clean"]) == 1
    assert victim.exists()
    assert "output/manifest.json" in capsys.readouterr().err


def test_manifest_entry_reads_both_shapes():
    old = entry_from({"audience": "x", "area": "y", "pdf": "x/y.pdf", "sha256": "s"})
    new = entry_from({"audience": "x", "area": "y", "file": "x/y.html", "format": "html"})
    assert (old.file, old.format) == ("x/y.pdf", "pdf")
    assert (new.file, new.format) == ("x/y.html", "html")
