"""Hostile input (SECURITY.md): note authors are not trusted. Each leak check has a positive
control, a file inside the project carrying its own marker, to prove the check would notice.

Audience templates: sandboxed, and only the audience's own data in reach.
"""

from __future__ import annotations

import pypdf
import pytest

from briefgen.build import BuildOptions, build
from briefgen.loading import load_project

# --- audience templates: sandboxed, and only the audience's own data in reach --------------


@pytest.mark.parametrize("expression", [
    "''.__class__.__mro__[1].__subclasses__()",
    "pack.__class__",
    "cycler.__init__.__globals__",
    "pack.references.clear()",
    "pack.project.root.read_text()",
    "pack.audience.directory.joinpath('../../briefgen.yaml').read_text()",
    "project.parse_file('/etc/passwd')",
    "project.model_validate_json('{}')",
])
def test_a_template_cannot_reach_python_internals(basic_project, expression):
    override = basic_project / "styles" / "study-group" / "templates"
    override.mkdir(parents=True, exist_ok=True)
    (override / "cover.html.j2").write_text(
        '<section class="cover" id="cover">\n<h1>{{ area.title }}</h1>\n'
        f"<p>{{{{ {expression} }}}}</p>\n</section>\n")
    results = build(load_project(basic_project), basic_project / "output", BuildOptions(
        areas=["alpha"], audiences=["study-group"]))
    (result,) = results
    assert result.status == "failed"
    # Named with the template's file and line, and what the sandbox allows.
    assert result.message.startswith(
        "styles/study-group/templates/cover.html.j2:3: template failed: "), result.message
    assert "unsafe" in result.message or "undefined" in result.message, result.message
    assert not (basic_project / "output" / "study-group" / "alpha.pdf").exists()


def test_a_template_walking_the_pack_finds_no_withheld_note(basic_project):
    """The pack a template gets holds only what its audience may see, so even a template that
    dumps every note, claim and reference it can reach prints no withheld canary."""
    override = basic_project / "styles" / "study-group" / "templates"
    override.mkdir(parents=True, exist_ok=True)
    (override / "cover.html.j2").write_text(
        '<section class="cover" id="cover"><h1>{{ area.title }}</h1>\n'
        "{% for a in pack.project.areas %}{% for n in a.notes %}<p>{{ n.meta.title }} "
        "{{ n.body }}{% for c in n.claims %} {{ c.id }}{% endfor %}</p>{% endfor %}{% endfor %}\n"
        "{% for n in pack.area.notes %}<p>{{ n.body }}</p>{% endfor %}\n"
        "{% for k, r in pack.project.references.items() %}<p>{{ k }} {{ r.title }}</p>"
        "{% endfor %}\n</section>\n")
    results = build(load_project(basic_project), basic_project / "output", BuildOptions(
        areas=["alpha"], audiences=["study-group"]))
    assert [r.status for r in results] == ["built"], [r.message for r in results]
    text = "".join(page.extract_text() for page in
                   pypdf.PdfReader(basic_project / "output/study-group/alpha.pdf").pages)
    assert "Fact" in text  # the dump did run: visible notes are there
    for canary in ("CANARY-CLAIM-9034", "CANARY-TITLE-5521", "CANARY-BODY-3310",
                   "CANARY-REF-7781"):
        assert canary not in text
