"""`check` predicts `build` (issue #22): each error a build raises from project content,
`check` raises too, at the same place with the same message."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "basic"


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "briefgen", "-C", str(root), *args],
                          capture_output=True, text=True, timeout=300, check=False)


def template_override(root: Path) -> None:
    folder = root / "styles" / "study-group" / "templates"
    folder.mkdir(parents=True)
    (folder / "pack.html.j2").write_text(
        '{% extends "pack.html.j2" %}\n{% block title %}\n{% if x %}oops\n{% endblock %}\n')


def partial_override(root: Path) -> None:
    # a partial the pack includes, broken in an audience that extends another project audience
    (root / "styles" / "board").mkdir()
    (root / "styles" / "board" / "audience.yaml").write_text("extends: study-group\ntitle: B\n")
    folder = root / "styles" / "study-group" / "templates"
    folder.mkdir(parents=True)
    (folder / "cover.html.j2").write_text("<p>\n{{ title }\n</p>\n")


def image_without_alt_text(root: Path) -> None:
    audience = root / "styles" / "study-group" / "audience.yaml"
    audience.write_text(audience.read_text() + "require_alt_text: true\n")
    shutil.copy(FIXTURE.parent / "pixel.png", root / "sources" / "beta" / "pixel.png")
    note = root / "sources" / "beta" / "10-only.md"
    note.write_text(note.read_text() + "\n![](pixel.png)\n")


CASES: list[tuple[str, Callable[[Path], None], str, str]] = [
    # (name, mistake, where, message)
    ("template syntax error", template_override,
     "styles/study-group/templates/pack.html.j2:4",
     "template failed: Encountered unknown tag 'endblock'"),
    ("broken partial", partial_override, "styles/study-group/templates/cover.html.j2:2",
     "template failed: unexpected '}'"),
    ("image without alt text", image_without_alt_text, "sources/beta/10-only.md:12:1",
     "image without alt text"),
]


@pytest.mark.parametrize(("mistake", "where", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_check_reports_what_build_refuses(tmp_path, mistake, where, message):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    assert run(root, "check").returncode == 0     # the fixture is clean: the mistake is seen
    mistake(root)
    checked = run(root, "check")
    assert checked.returncode == 1
    assert f"{where}: error: {message}" in checked.stderr, checked.stderr
    built = run(root, "build", "--audience", "study-group")
    assert built.returncode == 1
    assert f"{where}: {message}" in built.stdout + built.stderr, built.stdout + built.stderr
