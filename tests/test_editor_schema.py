"""`briefgen schema` (issue #22): JSON Schema from the pydantic models; the repository's
sample validates against it, and a misspelt key does not."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from briefgen.yamlio import load_yaml_file, split_front_matter

REPO = Path(__file__).resolve().parents[1]


def plain(value: Any) -> Any:
    """YAML data as an editor's YAML server sees it: dates are strings."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def front_matter(path: Path) -> Any:
    return split_front_matter(path.read_text(encoding="utf-8"), str(path)).meta


@pytest.fixture(scope="module")
def schemas(tmp_path_factory) -> dict[str, jsonschema.protocols.Validator]:
    out = tmp_path_factory.mktemp("schemas")
    proc = subprocess.run([sys.executable, "-m", "briefgen", "schema", "--out", str(out)],
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    found = {}
    for path in sorted(out.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        found[path.name.removesuffix(".schema.json")] = jsonschema.Draft202012Validator(schema)
    assert sorted(found) == ["area", "audience", "briefgen", "note", "references"]
    return found


def sample_files() -> list[tuple[str, Path]]:
    files = [("briefgen", REPO / "briefgen.yaml"),
             ("references", REPO / "sources" / "references.yaml")]
    files += [("audience", p) for p in sorted(REPO.glob("styles/*/audience.yaml"))]
    for area in sorted(p for p in (REPO / "sources").iterdir() if (p / "_area.md").is_file()):
        files.append(("area", area / "_area.md"))
        files += [("note", p) for p in sorted(area.glob("*.md")) if p.name != "_area.md"]
    return files


def test_the_sample_validates_against_the_generated_schemas(schemas):
    files = sample_files()
    assert len([f for f in files if f[0] == "note"]) >= 5
    for kind, path in files:
        data = front_matter(path) if path.suffix == ".md" else load_yaml_file(path, str(path))
        errors = [e.message for e in schemas[kind].iter_errors(plain(data))]
        assert not errors, f"{path}: {errors}"


@pytest.mark.parametrize(("kind", "data"), [
    ("note", {"title": "x", "claims": [{"id": "A-1", "text": "t", "credibilty": 2}]}),
    ("briefgen", {"title": "x", "isuer": "y"}),
    ("references", [{"id": "r", "title": "t", "issued": "yesterday",
                     "custom": {"reliability": "A", "descriptor": "d"}}]),
])
def test_a_mistake_fails_the_schema(schemas, kind, data):
    assert list(schemas[kind].iter_errors(data))


def test_csl_date_strings_pass_the_schema(schemas):
    ref = {"id": "r", "title": "t", "custom": {"reliability": "A", "descriptor": "d"}}
    for issued in ("2025-04-01", "2025-04", 2025, {"date-parts": [[2025, 4]]}):
        assert not list(schemas["references"].iter_errors([{**ref, "issued": issued}]))


@pytest.mark.parametrize("spelling", ["RED", "red", "TLP:RED", "tlp:amber+strict", " TLP: Green ",
                                      "AMBER+STRICT", "Clear"])
def test_every_tlp_spelling_the_loader_accepts_passes_the_schema(schemas, spelling):
    from briefgen.schema import AudienceConfig

    AudienceConfig.model_validate({"title": "t", "clearance": spelling})   # the loader: fine
    assert list(schemas["audience"].iter_errors({"clearance": spelling})) == []


@pytest.mark.parametrize("spelling", ["PURPLE", "TLP:", "TLP:REDD", "RED!", "amber+str\u0131ct",
                                      "amber+\u017ftrict"])
def test_a_tlp_level_the_loader_refuses_fails_the_schema(schemas, spelling):
    import pydantic

    from briefgen.schema import AudienceConfig

    with pytest.raises(pydantic.ValidationError):
        AudienceConfig.model_validate({"title": "t", "clearance": spelling})
    assert list(schemas["audience"].iter_errors({"clearance": spelling}))
