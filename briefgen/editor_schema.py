"""JSON Schema for the files a user writes, from the pydantic models (`briefgen schema`), so
an editor (yaml-language-server, say) can complete and validate while typing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter

from briefgen.schema import AreaMeta, AudienceConfig, NoteMeta, ProjectConfig, Reference

# file name -> (what it describes, the model)
SCHEMAS: dict[str, tuple[str, Any]] = {
    "briefgen.schema.json": ("briefgen.yaml", ProjectConfig),
    "audience.schema.json": ("styles/<audience>/audience.yaml", AudienceConfig),
    "references.schema.json": ("sources/references.yaml", list[Reference]),
    "area.schema.json": ("the front matter of sources/<area>/_area.md", AreaMeta),
    "note.schema.json": ("the front matter of a note, sources/<area>/*.md", NoteMeta),
}

# What the loader accepts beside a CSL date object (schema.csl_date).
_CSL_DATE_STRING = {"type": "string", "pattern": r"^\d{4}(-\d{1,2}(-\d{1,2})?)?$"}


# TLP levels as the loader reads them (schema.normalise_tlp): FIRST's `TLP:RED` or the bare
# level, in any case, spaces around. Editors complete from the enum; the pattern accepts the
# other spellings (JSON Schema patterns have no case-insensitive flag: each letter is a class).
_TLP_LEVELS = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]


def _any_case(text: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in text)


_TLP_SPELLINGS = {"type": "string", "pattern": (
    r"^\s*(" + _any_case("TLP:") + r"\s*)?(" + "|".join(_any_case(t) for t in _TLP_LEVELS)
    + r")\s*$")}


def _tlp_spellings(node: Any) -> Any:  # noqa: ANN401
    """`node` with every TLP enum widened to what the loader accepts."""
    if isinstance(node, dict):
        if node.get("enum") == _TLP_LEVELS:
            rest = {k: v for k, v in node.items() if k not in ("enum", "type")}
            return {**rest, "anyOf": [{"type": "string", "enum": _TLP_LEVELS}, _TLP_SPELLINGS]}
        return {k: _tlp_spellings(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_tlp_spellings(v) for v in node]
    return node


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of the file `name` (a key of SCHEMAS)."""
    what, model = SCHEMAS[name]
    if isinstance(model, type) and issubclass(model, BaseModel):
        schema = model.model_json_schema(by_alias=True)
    else:
        schema = TypeAdapter(model).json_schema(by_alias=True)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "description": f"{what}, as briefgen reads it", **schema}
    dates = schema.get("$defs", {}).get("DateParts")
    if dates is not None:
        schema["$defs"]["DateParts"] = {"anyOf": [dates, _CSL_DATE_STRING,
                                                  {"type": "integer"}]}
    if model is AudienceConfig:
        # every key may come from the audience it extends
        schema.pop("required", None)
    return dict(_tlp_spellings(schema))


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = folder / name
        path.write_text(json.dumps(json_schema(name), indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        written.append(path)
    return written
