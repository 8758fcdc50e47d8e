"""Safe YAML and front matter reading that remembers where every value came from.

Project files are written by people we may not trust, so: safe construction only (plain
mappings, lists, strings, numbers, booleans, dates), a size limit, a cap on aliases and on
what they expand to (no alias bombs), strict UTF-8, regular files only, and line numbers for
every mapping key so validation errors can point at the line to fix. A value YAML can parse
but Python cannot build (`2025-02-30`, a 5,000-digit number) is a located error too, never a
traceback.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from briefgen.errors import error

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ALIASES = 64
# Aliases share one object, but whatever walks the data later (validation, reports) sees every
# copy: cap the number of values all aliases together stand for.
MAX_ALIAS_EXPANSION = 10_000
_SURROGATE = re.compile("[\ud800-\udfff]")
# Tags SafeLoader knows that briefgen files never need: binary data and unordered sets or
# pair lists would only turn into confusing validation errors or unstable output.
_REFUSED_TAGS = ("binary", "set", "omap", "pairs")


class LocDict(dict):
    """A mapping that knows the line of each key (1-based)."""

    line: int = 0
    key_lines: dict[Any, int]


class LocList(list):
    """A sequence that knows the line of each item (1-based)."""

    line: int = 0
    item_lines: list[int]


def _libyaml_ok() -> bool:
    """libyaml parses about ten times faster than PyYAML's pure-Python scanner, which is most of
    the time a no-op rebuild of a large project spends. Only a libyaml that caps nesting depth
    (0.2.6 and later) is used: an older one composes deeply nested input by recursing in C."""
    try:
        return bool(yaml.__with_libyaml__) and yaml._yaml.get_version() >= (0, 2, 6)
    except AttributeError:  # pragma: no cover - PyYAML without its C extension
        return False


USE_LIBYAML = _libyaml_ok()


class _AliasCap:
    """Counts aliases and what they expand to, for a composed node graph."""

    def __init__(self) -> None:
        self.aliases = 0
        self.expanded = 0
        self._sizes: dict[int, int] = {}

    def alias(self, target: yaml.Node | None, mark: yaml.Mark | None) -> None:
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise yaml.composer.ComposerError(
                None, None, f"more than {MAX_ALIASES} aliases", mark)
        if target is not None:
            self.expanded += self.size(target)
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise yaml.composer.ComposerError(
                    None, None, f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} values",
                    mark)

    def size(self, node: yaml.Node) -> int:
        """How many values a node stands for once every alias inside it is expanded."""
        key = id(node)
        if key in self._sizes:
            return self._sizes[key]
        self._sizes[key] = 1  # a node that contains itself counts once (it fails later)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(self.size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(self.size(k) + self.size(v) for k, v in node.value)
        self._sizes[key] = total
        return total

    def check_graph(self, root: yaml.Node) -> None:
        """The same caps for a graph libyaml composed: in document order, the first visit to a
        node is its definition and every later edge to it is an alias."""
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                self.alias(node, node.start_mark)
                continue
            seen.add(id(node))
            if isinstance(node, yaml.SequenceNode):
                stack.extend(reversed(node.value))
            elif isinstance(node, yaml.MappingNode):
                stack.extend(child for pair in reversed(node.value) for child in pair[::-1])


class _Constructor(yaml.constructor.SafeConstructor):
    """Safe construction into LocDict / LocList, with located errors; shared by both parsers."""

    _offset = 0

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:  # noqa: ANN401
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:
            # e.g. `as_of: 2025-02-30` or a 5,000-digit number: parseable YAML, impossible value.
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the value {_snippet(node)}: {_reason(exc)}",
                node.start_mark) from None

    def construct_yaml_str(self, node: yaml.Node) -> str:
        value = super().construct_yaml_str(node)
        if _SURROGATE.search(value):
            raise yaml.constructor.ConstructorError(
                None, None, "a string holds an escaped lone surrogate (like \\ud800), which "
                "is not a character and cannot be printed", node.start_mark)
        return value

    def refuse_tag(self, node: yaml.Node) -> Any:  # noqa: ANN401
        raise yaml.constructor.ConstructorError(
            None, None, f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not "
            "supported; briefgen files use plain YAML values", node.start_mark)

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


# PyYAML's stubs type add_constructor for its own loader classes only.
_Constructor.add_constructor("tag:yaml.org,2002:map",  # type: ignore[type-var]
                             _Constructor.construct_mapping)
_Constructor.add_constructor("tag:yaml.org,2002:seq",  # type: ignore[type-var]
                             _Constructor.construct_sequence)
_Constructor.add_constructor("tag:yaml.org,2002:str",  # type: ignore[type-var]
                             _Constructor.construct_yaml_str)
for _tag in _REFUSED_TAGS:
    _Constructor.add_constructor(f"tag:yaml.org,2002:{_tag}",  # type: ignore[type-var]
                                 _Constructor.refuse_tag)


class _PyLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                yaml.composer.Composer, _Constructor, yaml.resolver.Resolver):
    """PyYAML's pure-Python parser; aliases are capped while the document is composed."""

    def __init__(self, stream: str, line_offset: int) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        _Constructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self._offset = line_offset
        self._cap = _AliasCap()

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: ANN401
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            self._cap.alias(self.anchors.get(event.anchor), event.start_mark)
        return super().compose_node(parent, index)


if USE_LIBYAML:
    class _CLoader(yaml.cyaml.CParser, _Constructor,  # type: ignore[name-defined]
                   yaml.resolver.Resolver):
        """libyaml's parser and composer; aliases are capped on the composed graph, before
        anything is constructed from it."""

        def __init__(self, stream: str, line_offset: int) -> None:
            yaml.cyaml.CParser.__init__(self, stream)  # type: ignore[attr-defined]
            _Constructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self._offset = line_offset

        def get_single_data(self) -> Any:  # noqa: ANN401
            node = self.get_single_node()
            if node is None:
                return None
            _AliasCap().check_graph(node)
            return self.construct_document(node)


def _snippet(node: yaml.Node) -> str:
    if isinstance(node, yaml.ScalarNode):
        text = str(node.value)
        return repr(text if len(text) <= 40 else text[:37] + "...")
    return "here"


def _reason(exc: Exception) -> str:
    text = str(exc)
    if "limit" in text and "digits" in text:
        return "the number has too many digits"
    return text or type(exc).__name__


def _hint(problem: str) -> str:
    if "alias" in problem or "recursive" in problem:
        return "briefgen files do not need YAML aliases (&name / *name); write the values out"
    if problem.startswith("cannot read the value"):
        return "check the value (dates are YYYY-MM-DD); put it in quotes if it is meant as text"
    if "tag" in problem:
        return "remove the '!!' tag; briefgen reads plain YAML values only"
    return "check indentation, quoting and colons on this line"


# A quoted text that ends where its author did not mean it to: right after its closing quote
# comes more text instead of a comma, bracket, brace or comment ("He said "hi" to me").
_EARLY_DOUBLE = re.compile(r'"(?:[^"\\\n]|\\.)*"[ \t]*[^\s,\]}#:]')
_EARLY_SINGLE = re.compile(r"'(?:[^'\n]|'')*'[ \t]*[^\s,\]}#:']")


def _quote_hint(line: str) -> str:
    """A hint for the commonest broken line in notes: a quotation mark inside quoted text."""
    if _EARLY_DOUBLE.search(line):
        return ('a text in double quotes ends at its next " : write \\" for a quotation mark '
                "inside it, or use typographic quotes (\u201c \u201d) or single quotes around "
                "the whole text")
    if _EARLY_SINGLE.search(line):
        return ("a text in single quotes ends at its next ' : write '' (two) for an apostrophe "
                "inside it, or put the whole text in double quotes")
    return ""


def _too_big(display: str, size: int) -> Exception:
    return error(display, f"file is {size / 1e6:.1f} MB, over the {MAX_FILE_BYTES // 2**20} MiB "
                 "limit for a source file", hint="split it into several notes")


def read_text(path: Path, display: str) -> str:
    """Read a project text file: regular files only, bounded size, strict UTF-8, located errors.

    The size is checked before reading and the read itself is bounded, so a 50 MB file costs
    one stat, not 50 MB of memory; a FIFO or device cannot make the build wait forever.
    """
    data = read_bytes(path, display)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(display, f"not valid UTF-8 (byte 0x{data[exc.start]:02x})", line=line,
                    hint="save the file as UTF-8") from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def read_bytes(path: Path, display: str) -> bytes:
    """A plain file's bytes (no link, pipe, device or hard link; bounded size), as
    `read_text` reads them."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise error(display, "is a symbolic link",
                        hint="copy the file here; briefgen reads only plain files") from None
        raise error(display, f"cannot read file: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise error(display, "not a regular file",
                        hint="sources must be ordinary text files, not folders, pipes or devices")
        if info.st_nlink > 1:
            raise error(display, "is a hard link (the same file has another name elsewhere)",
                        hint="copy the file instead of linking it; a text must have one "
                             "place, and so one handling")
        if info.st_size > MAX_FILE_BYTES:
            raise _too_big(display, info.st_size)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        if exc.errno == errno.EISDIR:  # pragma: no cover - fstat catches folders first
            raise error(display, "not a regular file") from None
        raise error(display, f"cannot read file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_BYTES:  # it grew after the check
        raise _too_big(display, len(data))
    return data


def load_yaml(text: str, display: str, line_offset: int = 0, *,
              pure_python: bool = False) -> Any:  # noqa: ANN401
    """Parse YAML safely; errors name the file and the line. `pure_python` forces PyYAML's
    Python parser even where libyaml is available (the tests compare the two)."""
    try:
        loader = (_CLoader if USE_LIBYAML and not pure_python else _PyLoader)(text, line_offset)
        return loader.get_single_data()
    except yaml.reader.ReaderError as exc:  # a control character; both parsers check them all
        line = text.count("\n", 0, max(exc.position, 0)) + 1 + line_offset
        raise error(display, f"invalid YAML: character U+{exc.character:04X} is not allowed",
                    line=line, hint="remove control characters; YAML files hold printable "
                    "text only") from None
    except UnicodeEncodeError:  # pragma: no cover - read_text decodes strict UTF-8 first
        raise error(display, "invalid YAML: the text holds a lone surrogate, which is not a "
                    "character", hint="save the file as UTF-8") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = mark.line + 1 + line_offset if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        lines = text.splitlines()
        hint = _quote_hint(lines[mark.line]) if mark and mark.line < len(lines) else ""
        raise error(display, f"invalid YAML: {problem}", line=at,
                    hint=hint or _hint(problem)) from None
    except yaml.YAMLError as exc:
        raise error(display, f"invalid YAML: {exc}", line=None) from None
    except RecursionError:
        raise error(display, "YAML nested too deeply",
                    hint="briefgen files need only a few levels of nesting") from None


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
        raise error(display, "the first line must be exactly '---'", line=1,
                    hint="nothing else on the line that opens the front matter")
    closing = _FENCE.search(text, first_nl + 1)
    if closing is None:
        raise error(display, "front matter is not closed", line=1,
                    hint="add a line '---' after the YAML front matter")
    yaml_text = text[first_nl + 1: closing.start()]
    meta = load_yaml(yaml_text, display, line_offset=1) if yaml_text.strip() else LocDict()
    if meta is None:
        meta = LocDict()
    if not isinstance(meta, dict):
        raise error(display, "front matter must be a YAML mapping (key: value lines)", line=2,
                    hint="write 'title: ...' and the other keys, one per line")
    if not isinstance(meta, LocDict):  # pragma: no cover - loader always builds LocDict
        meta = LocDict(meta)
    body_start = closing.end() + 1
    body_line = text.count("\n", 0, min(body_start, len(text))) + 1
    return FrontMatterDoc(meta, text[body_start:], body_line)
