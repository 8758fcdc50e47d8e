"""The documentation a style author relies on stays true to the code."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

from briefgen import render

DOCS = Path(__file__).parent.parent / "docs"


def test_every_template_variable_is_documented():
    # Every template gets the context render._context builds (render_html and the book's
    # parts alike): the keywords of its one dict(...) call.
    tree = ast.parse(inspect.getsource(render._context))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", "") == "dict"]
    (call,) = calls
    passed = {keyword.arg for keyword in call.keywords}
    documented = set(re.findall(r"^\| `(\w+)(?:\([^)]*\))?` \|", (DOCS / "templates.md")
                                .read_text(), re.M))
    assert passed - documented == set(), "document these in docs/templates.md"
    assert documented - passed == set(), "docs/templates.md lists variables that do not exist"


def test_every_package_template_is_documented():
    names = {p.name for p in (Path(render.__file__).parent / "templates").iterdir()}
    text = (DOCS / "templates.md").read_text()
    assert {n for n in names if f"`{n}`" not in text} == set()


def test_every_test_security_md_names_exists():
    """SECURITY.md backs each guarantee with named tests: they must exist."""
    root = Path(__file__).parent
    defined = {(path.name, name) for path in root.glob("test_*.py")
               for name in re.findall(r"^def (test_\w+)", path.read_text(), re.M)}
    named = re.findall(r"(test_\w+\.py)::(test_\w+)",
                       (root.parent / "SECURITY.md").read_text())
    assert named and [n for n in named if n not in defined] == []
