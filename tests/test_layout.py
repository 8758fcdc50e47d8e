"""Page references resolved without extra layouts (briefgen/layout.py), checked on real packs.

Each check runs in a fresh process: the change is process-wide, and the counts must come from
a process where it was (or was not) installed from the start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "basic"

COUNT = r"""
import collections, json, sys
from pathlib import Path
import weasyprint
import weasyprint.layout.page as page_module
if sys.argv[2] == "other-version":
    weasyprint.__version__ = "99.0"
calls = collections.Counter()
real = page_module.remake_page
def counting(index, *args):
    calls[index + 1] += 1
    return real(index, *args)
page_module.remake_page = counting
from briefgen.layout import resolve_page_references_early
from briefgen.loading import load_project
from briefgen.pack import assemble
from briefgen.pdf import Renderer
from briefgen.model import stylesheets_for
from briefgen.render import render_html
root = Path(sys.argv[1])
project = load_project(root)
audience = project.audiences["study-group"]
area = next(a for a in project.areas if a.slug == "alpha")
renderer = Renderer()
data, pages, _ = renderer.pdf(render_html(assemble(project, area, audience)),
                              project_root=root, stylesheets=stylesheets_for(audience),
                              identifier=b"0" * 16)
print(json.dumps({"pages": pages, "calls": calls, "applied": resolve_page_references_early()}))
"""


def count(mode: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", COUNT, str(FIXTURE), mode], check=True,
                          capture_output=True, text=True, timeout=300)
    return json.loads(proc.stdout)


def test_every_page_is_laid_out_once_but_the_contents():
    result = count("supported")
    assert result["applied"] is True
    layouts = {int(page): n for page, n in result["calls"].items()}
    assert layouts.pop(2) == 2        # the contents point forward: laid out again once
    assert set(layouts.values()) == {1} and len(layouts) == result["pages"] - 1


def test_other_weasyprint_versions_run_unchanged():
    result = count("other-version")
    assert result["applied"] is False
    assert max(result["calls"].values()) > 1   # WeasyPrint's own passes, as before
