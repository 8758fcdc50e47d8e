""""Did you mean …?" for misspelt keys, ids and names (issue #22), in text and JSON, and never
naming an id above the clearance of whoever reads the message."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from briefgen.suggest import closest, did_you_mean

FIXTURE = Path(__file__).parent / "fixtures" / "basic"


def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("output", ".briefgen-cache"))
    return root


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", "-C", str(root), *args],
                          capture_output=True, text=True, timeout=300, check=False)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_closest_only_for_a_likely_misspelling():
    assert closest("credibilty", ["credibility", "evidence"]) == "credibility"
    assert closest("zzz", ["credibility", "evidence"]) is None
    assert did_you_mean("zzz", ["a"], "allowed: a") == "allowed: a"
    assert did_you_mean("evidense", ["evidence"], "x") == "did you mean 'evidence'? x"


MISTAKES = [  # (file, old, new, message, suggestion)
    ("sources/alpha/10-facts.md", "    credibility: 2\n", "    credibilty: 2\n",
     "unknown key 'claims[0].credibilty'", "did you mean 'credibility'?"),
    ("briefgen.yaml", "issuer:", "isuer:", "unknown key 'isuer'", "did you mean 'issuer'?"),
    ("sources/alpha/10-facts.md", "[[AL-02]]", "[[AL-2]]",
     "unknown claim 'AL-2'", "did you mean 'AL-02'?"),
    ("sources/alpha/10-facts.md", "[@law-a, art. 1]", "[@law-aa, art. 1]",
     "unknown reference 'law-aa' in citation", "did you mean 'law-a'?"),
    ("sources/alpha/10-facts.md", "{ref: report-b,", "{ref: reprt-b,",
     "unknown reference 'reprt-b'", "did you mean 'report-b'?"),
]


@pytest.mark.parametrize(("file", "old", "new", "message", "suggestion"), MISTAKES,
                         ids=[m[3] for m in MISTAKES])
def test_check_suggests_in_text_and_json(tmp_path, file, old, new, message, suggestion):
    root = project(tmp_path)
    edit(root / file, old, new)
    text = run(root, "check")
    assert text.returncode == 1
    (line,) = [li for li in text.stderr.splitlines() if message in li]
    assert line.startswith(f"{file}:")
    assert f"hint: {suggestion}" in text.stderr
    entries = json.loads(run(root, "check", "--format", "json").stdout)
    (entry,) = [e for e in entries if message in e["message"]]
    assert entry["hint"].startswith(suggestion)


def test_a_suggestion_never_names_a_withheld_id(tmp_path):
    # secret-memo is TLP:AMBER; a TLP:CLEAR note misspelling it is not told its name, and the
    # message itself stays readable.
    root = project(tmp_path)
    edit(root / "sources/alpha/10-facts.md", "[@law-a, art. 1]", "[@secret-mem]")
    for proc in (run(root, "check"), run(root, "check", "--format", "json"),
                 run(root, "check", "--clearance", "RED")):
        assert proc.returncode == 1
        assert "unknown reference 'secret-mem'" in proc.stdout + proc.stderr
        assert "secret-memo" not in proc.stdout + proc.stderr
    # the AMBER note itself may be told of an AMBER id
    edit(root / "sources/alpha/30-restricted.md", "[@secret-memo]", "[@secret-mem]")
    assert "did you mean 'secret-memo'?" in run(root, "check", "--clearance", "AMBER").stderr


@pytest.mark.parametrize(("args", "suggestion"), [
    (("build", "--audience", "study-grop"), "did you mean 'study-group'?"),
    (("claims", "--area", "alfa"), "did you mean 'alpha'?"),
    (("claims", "--audience", "restrited"), "did you mean 'restricted'?"),
])
def test_command_line_names_get_suggestions(tmp_path, args, suggestion):
    root = project(tmp_path)
    proc = run(root, *args)
    assert proc.returncode != 0
    assert suggestion in proc.stderr


def test_builds_unknown_area_suggests_clear_areas_only(tmp_path):
    # `build --area` reports at "sources/"; the message quotes only what was typed and the
    # names of TLP:CLEAR areas, so it is shown (an area handled above CLEAR is neither
    # listed nor suggested: tests/test_boundary.py).
    proc = run(project(tmp_path), "build", "--area", "alfa")
    assert proc.returncode == 1 and "did you mean 'alpha'? areas: alpha, beta" in proc.stderr
