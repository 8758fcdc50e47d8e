"""References: CSL date strings, citation styles, `import-refs`."""

from __future__ import annotations

from pathlib import Path

import pytest

from briefgen.errors import BriefgenError
from briefgen.loading import load_project

REFS = "sources/references.yaml"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def problems(root: Path) -> list[str]:
    with pytest.raises(BriefgenError) as info:
        load_project(root)
    return [d.format() for d in info.value.diagnostics]


@pytest.mark.parametrize(("written", "parts"), [
    ("2020-01-02", [2020, 1, 2]),        # YAML reads this as a date
    ("'2020-01-02'", [2020, 1, 2]),      # a quoted string
    ("2020-01", [2020, 1]),
    ("'2020-1'", [2020, 1]),
    ("2020", [2020]),                    # YAML reads this as a whole number
    ("{date-parts: [[2020, 1, 2]]}", [2020, 1, 2]),
])
def test_csl_date_strings_are_accepted_beside_date_parts(basic_project, written, parts):
    edit(basic_project / REFS, "  issued: {date-parts: [[2020, 1, 2]]}\n",
         f"  issued: {written}\n")
    project = load_project(basic_project)
    ref = next(r for r in project.references.values() if r.issued and r.issued.date_parts
               and r.issued.date_parts[0][0] == 2020)
    assert ref.issued is not None and ref.issued.date_parts == [parts]


@pytest.mark.parametrize("written", ["2020-13", "'2020-02-30'", "next spring", "[2020]",
                                     "{date-parts: [[2020, 2, 30]]}"])
def test_a_malformed_date_is_located_with_a_true_hint(basic_project, written):
    edit(basic_project / REFS, "  issued: {date-parts: [[2020, 1, 2]]}\n",
         f"  issued: {written}\n")
    (msg,) = problems(basic_project)
    assert msg.startswith(f"{REFS}:5: error: ")
    assert "is not a date" in msg
    assert "YYYY-MM-DD, YYYY-MM or YYYY" in msg
    assert "DateParts" not in msg and "key: value" not in msg


def test_accessed_takes_the_same_forms(basic_project):
    edit(basic_project / REFS, "  issued: {date-parts: [[2020, 1, 2]]}\n",
         "  issued: 2020-01-02\n  accessed: 2024-05\n")
    project = load_project(basic_project)
    assert any(r.accessed and r.accessed.date_parts == [[2024, 5]]
               for r in project.references.values())
