"""Safe YAML and front matter reading that remembers where every value came from.

Project files are written by people we may not trust, so: safe construction only, a size
limit, a cap on aliases (no alias bombs), strict UTF-8, and line numbers for every mapping
key so validation errors can point at the line to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from briefgen.errors import error

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ALIASES = 64


class LocDict(dict):
    """A mapping that knows the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class LocList(list):
    """A sequence that knows the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


class _Loader(yaml.SafeLoader):
    def __init__(self, stream: str, line_offset: int) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._offset = line_offset

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(
                    f"more than {MAX_ALIASES} aliases (line {mark.line + 1 + self._offset}); "
                    "briefgen files do not need YAML aliases")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LocDict:
        result = LocDict()
        result.line = node.start_mark.line + 1 + self._offset
        result.key_lines = {}
        self.flatten_mapping(node)
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) and key is not None:
                raise yaml.constructor.ConstructorError(
                    None, None, "a mapping key must be a plain value", key_node.start_mark)
            if key in result:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = self.construct_object(value_node, deep=True)
            result.key_lines[key] = key_node.start_mark.line + 1 + self._offset
        return result

    def construct_sequence(self, node: yaml.SequenceNode, deep: bool = False) -> LocList:
        result = LocList(self.construct_object(child, deep=True) for child in node.value)
        result.line = node.start_mark.line + 1 + self._offset
        result.item_lines = [child.start_mark.line + 1 + self._offset for child in node.value]
        return result


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _Loader.construct_sequence)


def read_text(path: Path, display: str) -> str:
    """Read a project text file: bounded size, strict UTF-8, located errors."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise error(display, f"cannot read file: {exc.strerror}") from None
    if size > MAX_FILE_BYTES:
        raise error(display, f"file is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // 2**20} MiB "
                    "limit for a source file", hint="split it into several notes")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(display, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line=line,
                    hint="save the file as UTF-8") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def load_yaml(text: str, display: str, line_offset: int = 0) -> Any:  # noqa: ANN401
    """Parse YAML safely; errors name the file and the line."""
    loader = _Loader(text, line_offset)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 + line_offset if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(display, f"invalid YAML: {problem}", line=line,
                    hint="check indentation, quoting and colons on this line") from None
    except yaml.YAMLError as exc:
        raise error(display, f"invalid YAML: {exc}", line=None) from None
    except RecursionError:
        raise error(display, "YAML nested too deeply") from None
    finally:
        loader.dispose()


def load_yaml_file(path: Path, display: str) -> Any:  # noqa: ANN401
    return load_yaml(read_text(path, display), display)


_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)


@dataclass(frozen=True)
class FrontMatterDoc:
    meta: LocDict
    body: str
    body_line: int  # 1-based line where the body starts


def split_front_matter(text: str, display: str) -> FrontMatterDoc:
    """Split `---` fenced YAML front matter from a Markdown body."""
    if not text.strip():
        raise error(display, "file is empty", line=1,
                    hint="a note starts with '---', YAML front matter (title, claims), '---'")
    if not text.startswith("---"):
        raise error(display, "missing front matter", line=1,
                    hint="start the file with a line '---', the YAML front matter, then '---'")
    first_nl = text.find("\n")
    if first_nl == -1 or text[:first_nl].strip() != "---":
        raise error(display, "the first line must be exactly '---'", line=1)
    closing = _FENCE.search(text, first_nl + 1)
    if closing is None:
        raise error(display, "front matter is not closed", line=1,
                    hint="add a line '---' after the YAML front matter")
    yaml_text = text[first_nl + 1: closing.start()]
    meta = load_yaml(yaml_text, display, line_offset=1) if yaml_text.strip() else LocDict()
    if meta is None:
        meta = LocDict()
    if not isinstance(meta, dict):
        raise error(display, "front matter must be a YAML mapping (key: value lines)", line=2)
    if not isinstance(meta, LocDict):  # pragma: no cover - loader always builds LocDict
        meta = LocDict(meta)
    body_start = closing.end() + 1
    body_line = text.count("\n", 0, min(body_start, len(text))) + 1
    return FrontMatterDoc(meta, text[body_start:], body_line)
