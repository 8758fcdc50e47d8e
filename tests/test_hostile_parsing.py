"""Hostile input (SECURITY.md): note authors are not trusted. Each leak check has a positive
control, a file inside the project carrying its own marker, to prove the check would notice.

Parsing: hostile YAML, oversized files, pipes, linear scans, and property tests that any
input gives a project, safe HTML or a clean BriefgenError.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pypdf
import pytest
import yaml
from conftest import FULL
from hostile_helpers import (  # the suite's shared helpers
    ENV,
    run_cli,
    write_note,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from briefgen import markup
from briefgen.build import BuildOptions, build
from briefgen.errors import BriefgenError
from briefgen.loading import load_project

# --- parsing: hostile YAML and oversized files --------------------------------------------------


@pytest.mark.parametrize("target", ["briefgen.yaml", "sources/references.yaml",
                                    "styles/study-group/audience.yaml"])
def test_python_object_tags_never_run(basic_project, target):
    marker = basic_project.parent / "PWNED"
    path = basic_project / target
    payload = f"!!python/object/apply:os.system ['touch {marker}']"
    if target.endswith("references.yaml"):
        path.write_text(path.read_text().replace('title: "Law Alpha"', f"title: {payload}", 1))
    else:
        path.write_text(path.read_text() + f"\nsubtitle: {payload}\n")
    proc = run_cli("check", cwd=basic_project)
    assert proc.returncode == 1 and not marker.exists()
    assert f"{target}:" in proc.stderr and "invalid YAML" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_alias_bomb_under_the_alias_count_is_refused_fast(basic_project, yaml_parser):
    # 7 levels x 9 aliases = 63 aliases (under the count cap) standing for 9**8 values.
    lines = ["- id: bomb", "  title: bomb", "  custom: {reliability: A, descriptor: d}",
             "  note: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"  n{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    refs = basic_project / "sources" / "references.yaml"
    refs.write_text(refs.read_text() + "\n".join(lines) + "\n")
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    # Refused by the expansion cap, i.e. before 9**8 values were ever built.
    (message,) = [d.format() for d in info.value.diagnostics]
    assert message.startswith("sources/references.yaml:")
    assert "aliases expand to more than 10,000 values" in message
    assert "hint: briefgen files do not need YAML aliases" in message


@pytest.mark.parametrize("value, expected", [
    ("2025-02-30", "cannot read the value '2025-02-30': day is out of range for month"),
    ("9" * 5000, "the number has too many digits"),
    ("!!float not-a-number", "cannot read the value 'not-a-number'"),
    ("!!binary aGVsbG8=", "the tag !!binary is not supported"),
    ("!!set {a, b}", "the tag !!set is not supported"),
    # PyYAML builds the string and briefgen refuses it; libyaml refuses the escape itself.
    ('"\\ud800 lone surrogate"', ("escaped lone surrogate", "invalid Unicode character escape")),
    ("&x [*x]", "recursive"),
])
def test_impossible_yaml_values_are_located_errors(basic_project, value, expected,
                                                  yaml_parser):
    config = basic_project / "briefgen.yaml"
    config.write_text(config.read_text().replace("as_of: 2025-03-01", f"as_of: {value}"))
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    (message,) = [d.format() for d in info.value.diagnostics]
    assert message.startswith("briefgen.yaml:4: error: invalid YAML: "), message
    assert any(text in message for text in ([expected] if isinstance(expected, str)
                                            else expected)), message
    assert "hint: " in message


@pytest.mark.parametrize("target, old, new", [
    ("sources/alpha/10-facts.md", "    credibility: 1\n", "    credibility: seven\n"),
    ("sources/alpha/_area.md", "order: 1", "order: first"),
    ("briefgen.yaml", "as_of: 2025-03-01", "as_of: yesterday"),
    ("sources/beta/10-only.md", "title: Only note", "title: Only note\nhandling: PURPLE"),
    ("sources/beta/10-only.md", "title: Only note", "title: ''"),
    ("sources/references.yaml", 'title: "Law Alpha"', "title: {a: b}"),
    ("sources/references.yaml", "primary: true", "primary: maybe-not"),
    ("styles/study-group/audience.yaml", "clearance: CLEAR", "clearance: [CLEAR]"),
    ("sources/beta/10-only.md", "credibility: 3", "credibility: 3\n    evidence: seven"),
    ("sources/beta/10-only.md", "---\ntitle", "--- x\ntitle"),
    ("sources/beta/10-only.md", "title: Only note\nclaims:", "- a list\n- not a mapping"),
    ("sources/beta/10-only.md", "title: Only note", "title: Only note\ntitle: again"),
    ("sources/beta/10-only.md", "title: Only note", "title: \x1b"),
])
def test_every_loading_error_has_a_line_and_a_hint(basic_project, target, old, new,
                                                   yaml_parser):
    path = basic_project / target
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r}"
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(BriefgenError) as info:
        load_project(basic_project)
    for diagnostic in info.value.diagnostics:
        assert diagnostic.location.file == target
        assert diagnostic.location.line is not None, diagnostic.format()
        assert diagnostic.hint, diagnostic.format()
        assert "Traceback" not in diagnostic.format()


def test_50_mb_note_is_refused_without_reading_it(basic_project):
    code = textwrap.dedent("""
        import resource, sys, time
        from pathlib import Path
        from briefgen.errors import BriefgenError
        from briefgen.loading import load_project
        try:
            load_project(Path(sys.argv[1]))
            print("LOADED")
        except BriefgenError as exc:
            print(exc)
        print("MAXRSS_KB", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)

    def load() -> tuple[str, int]:
        proc = subprocess.run([sys.executable, "-c", code, str(basic_project)], env=ENV,
                              capture_output=True, text=True, timeout=600, check=True)
        return proc.stdout, int(proc.stdout.splitlines()[-1].split()[1])

    _, baseline_kb = load()
    note = basic_project / "sources" / "beta" / "20-huge.md"
    with note.open("w") as handle:
        handle.write("---\ntitle: huge\n---\n")
        chunk = "All work and no play. " * 4096
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(chunk)
    output, maxrss_kb = load()
    assert "sources/beta/20-huge.md: error: file is 52.4 MB, over the 2 MiB limit" in output
    assert "hint: split it into several notes" in output
    assert maxrss_kb - baseline_kb < 20 * 1024  # the 50 MB were never read into memory


def test_pipes_and_folders_named_like_notes_are_errors_not_hangs(basic_project):
    os.mkfifo(basic_project / "sources" / "beta" / "20-pipe.md")
    (basic_project / "sources" / "beta" / "30-folder.md").mkdir()
    proc = run_cli("check", cwd=basic_project, timeout=60)
    assert proc.returncode == 1
    assert "sources/beta/20-pipe.md: error: not a regular file" in proc.stderr
    assert "sources/beta/30-folder.md: error: not a regular file" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("unit", ["[@a", "[[A]] ", "![", "<img ", "[@law-a] "])
def test_marker_scans_stay_linear_on_hostile_notes(basic_project, unit):
    """A hang detector, not a speed test: at 2 MB (CI; 512 KB here) a quadratic scan needs
    days (10**12 steps; hours at 512 KB), the linear one about a second; `check` must simply
    come back."""
    size = (2 if FULL else 0.5) * 1024 * 1024
    body = unit * (int(size - 100) // len(unit))
    write_note(basic_project, "beta", "20-hostile.md", body)
    proc = run_cli("check", cwd=basic_project, timeout=900)
    assert "Traceback" not in proc.stderr
    # Thousands of one mistake: the first 50 listed, the rest counted in one closing line,
    # and the total still true.
    listed = proc.stderr.count("sources/beta/20-hostile.md:4:")
    assert listed <= 50
    if listed == 50:
        closing = re.search(r"20-hostile\.md: error: and ([\d,]+) more like the above",
                            proc.stderr)
        assert closing, proc.stderr[-2000:]
        total = int(re.search(r"(\d+) error\(s\)", proc.stderr).group(1))
        assert total >= 50 + int(closing.group(1).replace(",", ""))




# --- properties: any input gives HTML/PDF or a clean BriefgenError ------------------------------

TOKENS = st.sampled_from([
    "[[", "]]", "[@", "]", "[", "(", ")", "<", ">", "{{", "}}", "{%", "%}", "*", "_", "`", "#",
    "|", "\n", "\n\n", "---", "> ", "- ", "1. ", "<script>", "</script>", "javascript:",
    "<img src=x onerror=alert(1)>", "<a href='javascript:alert(1)'>", "&", "&#0;", "\x00",
    "\ud7ff", "\u202e", "<div>", "</div>", "[[AL-01]]", "[@law-a, p. 1]", "![a](b.png)",
    "<svg><image href='file:///etc/passwd'/></svg>", "<style>", "<!--", "-->", "\t", "\\",
])
BODIES = st.lists(st.one_of(TOKENS, st.text(max_size=12)), max_size=40).map("".join)


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    handle_startendtag = handle_starttag


@settings(max_examples=60, deadline=None)
@given(BODIES)
def test_markdown_bodies_always_give_safe_html(body):
    html = markup.render(body, claim=lambda cid: f'<a href="#claim-{cid}">{cid}</a>',
                         cite=lambda items: "[cite]")
    parser = TagCollector()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in markup.ALLOWED_TAGS, tag
        for name, value in attrs:
            assert name in markup.ALLOWED_ATTRIBUTES.get(tag, ()), (tag, name)
            if name in ("href", "src"):
                scheme = urlsplit((value or "").strip()).scheme.lower()
                assert scheme in ("", "http", "https", "mailto"), (tag, name, value)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
    st.text(max_size=20), st.dates(),
    st.sampled_from(["CLEAR", "AMBER", "RED", "law-a", "supports", "judgment", "likely", ""]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["id", "text", "ref", "stance", "credibility", "kind",
                                     "evidence", "title", "x"]), inner, max_size=4)),
    max_leaves=12)
KEYS = st.sampled_from(["title", "order", "handling", "claims", "summary", "unknown", "1"])
FRONT = st.one_of(
    st.dictionaries(KEYS, VALUES, max_size=5).map(
        lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.text(max_size=80),
    st.lists(st.sampled_from(["title: t", "claims:", "  - id: X-1", "    text: t",
                              "    evidence: [{ref: law-a, stance: supports}]", "&a x",
                              "*a", "!!str", "? [a]", ": b", "'", '"', "{", "- ", "\t"]),
             max_size=8).map("\n".join))


def test_front_matter_gives_a_project_or_a_clean_error(basic_project):
    from briefgen.pack import assemble
    from briefgen.render import render_html

    note = basic_project / "sources" / "beta" / "20-generated.md"

    @settings(max_examples=60, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(FRONT, BODIES)
    def check(front, body):
        note.write_text(f"---\n{front}\n---\n{body}\n", encoding="utf-8",
                        errors="surrogatepass")
        try:
            project = load_project(basic_project)
        except BriefgenError as exc:
            assert exc.diagnostics and all(d.location.file for d in exc.diagnostics)
            return
        for area in project.areas:
            for audience in project.audiences.values():
                pack = assemble(project, area, audience)
                if pack is not None:
                    with contextlib.suppress(BriefgenError):
                        assert isinstance(render_html(pack), str)

    check()


def test_generated_notes_render_to_pdf_or_fail_alone(basic_project):
    note = basic_project / "sources" / "beta" / "20-generated.md"
    out = basic_project / "output"

    @settings(max_examples=5, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.text(max_size=30), BODIES)
    def check(title, body):
        note.write_text(f"---\ntitle: {json.dumps(title)}\n---\n{body}\n", encoding="utf-8",
                        errors="surrogatepass")
        try:
            project = load_project(basic_project)
        except BriefgenError:
            return
        results = build(project, out, BuildOptions(
            areas=["beta"], audiences=["study-group"], force=True, in_process=True))
        (result,) = results
        if result.status == "built":
            assert pypdf.PdfReader(out / "study-group" / "beta.pdf").pages
        else:
            assert result.status == "failed" and result.message

    check()
