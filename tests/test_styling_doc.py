"""docs/styling.md is a public interface: every custom property it lists is declared by the
base stylesheet, and every class it lists is written by a template or the Markdown renderer
and styled by the base stylesheet or a built-in audience; its worked example builds."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pypdf

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "styling.md"
BASE = REPO / "briefgen" / "templates" / "base.css"
FIXTURE = Path(__file__).parent / "fixtures" / "basic"


def listed(doc: str, block: str) -> list[str]:
    """The names in the first column of the table between <!-- block --> markers."""
    table = doc.split(f"<!-- {block} -->", 1)[1].split(f"<!-- /{block} -->", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE)


def missing(doc: str, css: str, producers: str) -> list[str]:
    """What the guide lists and briefgen no longer has: a property the base stylesheet does
    not declare, or a class no template (or renderer) writes."""
    declared = set(re.findall(r"(--[a-z][a-z0-9-]*)\s*:", css))
    written = set(re.findall(r"[\w-]+", " ".join(re.findall(
        r"class=\\?[\"']([^\"']*)", producers))))
    return ([p for p in listed(doc, "properties") if p not in declared]
            + [c for c in listed(doc, "classes") if c not in written])


def producers() -> str:
    files = [*(REPO / "briefgen" / "templates").glob("*.j2"), REPO / "briefgen" / "markup.py",
             REPO / "briefgen" / "render.py"]
    return "\n".join(f.read_text() for f in files)


def test_every_listed_property_and_class_exists():
    doc = DOC.read_text()
    assert len(listed(doc, "properties")) >= 12 and len(listed(doc, "classes")) >= 30
    assert missing(doc, BASE.read_text(), producers()) == []


def test_the_check_fails_when_one_is_dropped():
    doc, css, made = DOC.read_text(), BASE.read_text(), producers()
    assert missing(doc, css.replace("--accent:", "--accent-colour:"), made) == ["--accent"]
    assert missing(doc, css, made.replace('class="claim-grade"', 'class="grade-box"')) == [
        "claim-grade"]


def test_the_worked_example_builds_with_no_css_warning(tmp_path):
    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    shutil.copytree(REPO / "docs" / "examples" / "styling" / "trainees", root / "styles" /
                    "trainees")
    example = (root / "styles" / "trainees" / "style.css").read_text()
    assert example.strip() in DOC.read_text()       # the guide shows the file as it is
    assert len(example.strip().splitlines()) <= 10
    proc = subprocess.run([sys.executable, "-m", "briefgen", "build", "--audience", "trainees",
                           "--area", "alpha"], check=False, cwd=root, capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr, proc.stderr
    reader = pypdf.PdfReader(root / "output" / "trainees" / "alpha.pdf")
    assert "Trainees" in reader.pages[0].extract_text()
    # The accent colour (#6b2c00) is painted: 0.42 0.173 0 as a fill colour.
    content = b"".join(page.get_contents().get_data() for page in reader.pages[:2])
    assert re.search(rb"0\.4196\d* 0\.1725\d* 0 rg", content), "accent colour not used"
