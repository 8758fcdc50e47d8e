"""Syntax diagnostics for an audience's stylesheets, located at `file:line:column`.

A browser, and WeasyPrint, skip what they cannot parse and carry on, so a missing brace can
silently drop half a stylesheet. `check` and `build` report every parse error tinycss2
(WeasyPrint's own CSS parser) finds as a warning (an error with `--strict`). What WeasyPrint
then ignores while validating (an unknown property, a bad value) is reported by the build,
which is where WeasyPrint runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import tinycss2

from briefgen.errors import Collector

# At-rules whose block holds declarations, and those whose block holds rules.
DECLARATION_BLOCKS = {"page", "font-face", "top-left", "top-center", "top-right",
                      "bottom-left", "bottom-center", "bottom-right", "left-top",
                      "left-middle", "left-bottom", "right-top", "right-middle", "right-bottom",
                      "top-left-corner", "top-right-corner", "bottom-left-corner",
                      "bottom-right-corner", "footnote", "counter-style"}
RULE_BLOCKS = {"media", "supports", "document", "layer", "container"}


def check_stylesheet(text: str, display: str, sink: Collector) -> None:
    """Add a located warning to `sink` for every parse error in the stylesheet `text`."""
    _check_braces(text, display, sink)
    rules = tinycss2.parse_stylesheet(text, skip_comments=True, skip_whitespace=True)
    _walk_rules(rules, display, sink)


# Comments and strings, whose braces do not count (an unterminated one runs to the end).
_SKIP = re.compile(r"/\*.*?(?:\*/|\Z)|\"(?:[^\"\\\n]|\\.)*\"?|'(?:[^'\\\n]|\\.)*'?", re.S)


def _check_braces(text: str, display: str, sink: Collector) -> None:
    """Unbalanced braces: CSS error recovery hides them (an unclosed block silently swallows
    every rule after it), so they are found here, by line."""
    opened: list[int] = []
    for match in re.finditer(r"[{}]", _SKIP.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)),
                                                 text)):
        line = text.count("\n", 0, match.start()) + 1
        if match.group(0) == "{":
            opened.append(line)
        elif opened:
            opened.pop()
        else:
            sink.add(display, "CSS: '}' without a matching '{'", line=line, severity="warning",
                     code="css", hint="remove it, or add the rule it was meant to close")
    for line in opened[:1]:
        sink.add(display, "CSS: '{' is never closed: every rule after it is lost", line=line,
                 severity="warning", code="css", hint="add the missing '}'")


def _report(node: object, display: str, sink: Collector) -> None:
    # tinycss2 1.5 leaves one message unformatted
    message = getattr(node, "message", "parse error").replace("{colon.type}", "no ':'")
    sink.add(display, f"CSS: {message}", line=getattr(node, "source_line", None),
             column=getattr(node, "source_column", None), severity="warning", code="css",
             hint="fix the syntax: WeasyPrint skips what it cannot parse, often up to the "
                  "next closing brace")


def _walk_rules(rules: Iterable[object], display: str, sink: Collector) -> None:
    for rule in rules:
        kind = getattr(rule, "type", "")
        if kind == "error":
            _report(rule, display, sink)
        elif kind == "qualified-rule":
            _walk_declarations(rule.content, display, sink, nested=False)  # type: ignore[attr-defined]
        elif kind == "at-rule" and rule.content is not None:  # type: ignore[attr-defined]
            keyword = rule.lower_at_keyword  # type: ignore[attr-defined]
            if keyword in RULE_BLOCKS:
                _walk_rules(tinycss2.parse_rule_list(
                    rule.content, skip_comments=True, skip_whitespace=True),  # type: ignore[attr-defined]
                    display, sink)
            elif keyword in DECLARATION_BLOCKS:
                _walk_declarations(rule.content, display, sink)  # type: ignore[attr-defined]


def _walk_declarations(content: list, display: str, sink: Collector,
                       nested: bool = True) -> None:
    """Declarations of a block; `nested` blocks (@page) may hold rules as well."""
    parse = tinycss2.parse_blocks_contents if nested else tinycss2.parse_declaration_list
    for item in parse(content, skip_comments=True, skip_whitespace=True):
        kind = getattr(item, "type", "")
        if kind == "error":
            _report(item, display, sink)
        elif kind in ("qualified-rule", "at-rule") and item.content is not None:
            # nested rules: CSS nesting, margin boxes in @page
            _walk_declarations(item.content, display, sink)
