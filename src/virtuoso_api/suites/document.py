"""Reading a suite file safely: YAML or JSON text to a :mod:`~virtuoso_api.suites.tree`, with lines.

Only YAML's node tree is built (PyYAML's composer, the ``safe_load`` resolver): no Python object is
ever constructed from a tag, and a tag other than YAML's plain types is refused. Hostile documents are
bounded while they are read, not after: nesting (:data:`MAX_DEPTH`), aliases (:data:`MAX_ALIASES`), and
the values a document expands to through its aliases (:data:`MAX_VALUES`, the "billion laughs"), next
to the size of the text itself (:data:`MAX_SOURCE_BYTES`).

JSON is checked by Python's strict ``json`` first (so a trailing comma is a JSON error, not quietly
accepted YAML), then read by the same composer for its lines: valid JSON is YAML once the tabs between
tokens, which YAML forbids there and JSON strings cannot hold, are spaces.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Literal

import yaml
from yaml.composer import Composer, ComposerError
from yaml.events import AliasEvent, NodeEvent
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import Resolver
from yaml.scanner import Scanner

from virtuoso_api.suites.problems import StepProblem
from virtuoso_api.suites.tree import Entry, Mapping, Node, Scalar, ScalarKind, Sequence, child_path

#: The largest suite file read (HTTP bodies are also bounded by MAX_REQUEST_BYTES, before this).
MAX_SOURCE_BYTES: Final = 2 * 1024 * 1024
#: Maps and lists inside each other; a suite needs about six.
MAX_DEPTH: Final = 32
#: ``*name`` references in one file.
MAX_ALIASES: Final = 100
#: Values (scalars, maps, lists) the document holds once every alias is expanded.
MAX_VALUES: Final = 100_000

Syntax = Literal["yaml", "json"]

_TAG = "tag:yaml.org,2002:"
_KINDS: dict[str, ScalarKind] = {
    f"{_TAG}str": "str",
    f"{_TAG}int": "int",
    f"{_TAG}float": "float",
    f"{_TAG}bool": "bool",
    f"{_TAG}null": "null",
}
_ALLOWED_TAGS = frozenset({*_KINDS, f"{_TAG}seq", f"{_TAG}map", "!"})


@dataclass(frozen=True, slots=True)
class Document:
    root: Node | None
    syntax: Syntax


class _BoundedComposer(Reader, Scanner, Parser, Composer, Resolver):
    """``yaml.SafeLoader`` without its constructor, refusing tags, deep nesting and many aliases."""

    def __init__(self, text: str) -> None:
        Reader.__init__(self, text)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        Resolver.__init__(self)
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        mark: Any = event.start_mark
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise ComposerError(None, None, f"more than {MAX_ALIASES} aliases (*name)", mark)
        elif isinstance(event, NodeEvent):
            tag = getattr(event, "tag", None)
            if tag is not None and tag not in _ALLOWED_TAGS:
                shown = tag.replace(_TAG, "!!", 1)
                raise ComposerError(
                    None,
                    None,
                    f"the tag {shown} is not allowed in a suite (plain values only)",
                    mark,
                )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(None, None, f"values are nested deeper than {MAX_DEPTH} levels", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _valid_text(value: str, line: int, path: str) -> str:
    # YAML's "\ud83d\ude00" escapes arrive as two surrogates: join real pairs, refuse a lone one.
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        try:
            return value.encode("utf-16", "surrogatepass").decode("utf-16")
        except UnicodeDecodeError:
            raise StepProblem(line, path, "is not valid Unicode text (a lone surrogate escape)") from None


class _TreeBuilder:
    """yaml nodes to tree nodes, counting every value so aliases cannot multiply a small file."""

    def __init__(self) -> None:
        self.values = 0

    def build(self, node: yaml.Node, path: str, depth: int) -> Node:
        line = node.start_mark.line + 1
        self.values += 1
        if self.values > MAX_VALUES:
            raise StepProblem(
                line, path, f"the file expands to more than {MAX_VALUES} values (through its aliases)"
            )
        if depth > MAX_DEPTH:  # only a cycle (&a [*a]) gets here: the composer bounds written nesting
            raise StepProblem(
                line, path, f"values are nested deeper than {MAX_DEPTH} levels (an alias loop?)"
            )
        if isinstance(node, yaml.ScalarNode):
            kind = _KINDS.get(str(node.tag), "str")
            return Scalar(line, path, _valid_text(str(node.value), line, path), kind)
        if isinstance(node, yaml.SequenceNode):
            items = tuple(
                self.build(item, child_path(path, index), depth + 1) for index, item in enumerate(node.value)
            )
            return Sequence(line, path, items)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, line, path, depth)
        raise StepProblem(line, path, "is not a value a suite can hold")

    def _mapping(self, node: yaml.MappingNode, line: int, path: str, depth: int) -> Mapping:
        entries: list[Entry] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == f"{_TAG}merge":
                raise StepProblem(key_line, path, "merge keys (<<) are not supported; write the keys out")
            if not isinstance(key_node, yaml.ScalarNode):
                raise StepProblem(key_line, path, "a key must be a single word or text, not a map or list")
            name = _valid_text(str(key_node.value), key_line, path)
            if name in seen:
                raise StepProblem(
                    key_line, child_path(path, name), f"is given twice (first on line {seen[name]})"
                )
            seen[name] = key_line
            key = Scalar(key_line, child_path(path, name), name, "str")
            entries.append(Entry(key, self.build(value_node, key.path, depth + 1)))
        return Mapping(line, path, tuple(entries))


def _yaml_problem(exc: yaml.YAMLError, text: str, syntax: Syntax) -> StepProblem:
    what = "JSON" if syntax == "json" else "YAML"
    if isinstance(exc, ReaderError):
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        code = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        return StepProblem(
            line, "", f"not readable as {what}: the control character U+{code:04X} is not allowed"
        )
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        reason = ", ".join(part for part in (exc.context, exc.problem) if part)
        return StepProblem(mark.line + 1 if mark else None, "", f"not readable as {what}: {reason}")
    return StepProblem(None, "", f"not readable as {what}: {exc}")


def _json_problem(text: str) -> StepProblem | None:
    """None when ``text`` is strict JSON, else where and why it is not."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return StepProblem(exc.lineno, "", f"not valid JSON: {exc.msg} (column {exc.colno})")
    except RecursionError:
        return StepProblem(
            None, "", f"not readable as JSON: values are nested deeper than {MAX_DEPTH} levels"
        )
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        return StepProblem(None, "", f"not readable as JSON: {exc}")
    return None


def decode(data: bytes) -> str:
    """UTF-8 text (a byte-order mark is dropped); anything else is a problem naming where it breaks."""
    if len(data) > MAX_SOURCE_BYTES:
        raise StepProblem(None, "", f"the file is larger than {MAX_SOURCE_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise StepProblem(
            line, "", f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def load_document(text: str, *, syntax: Syntax | None = None) -> Document:
    """Read ``text`` as JSON when ``syntax`` says so or it starts with ``{`` or ``[`` (falling back to
    YAML's flow style when it is not strict JSON), else as YAML."""
    if len(text) > MAX_SOURCE_BYTES:
        raise StepProblem(None, "", f"the file is larger than {MAX_SOURCE_BYTES} bytes")
    used: Syntax = "yaml"
    source = text
    if syntax == "json" or (syntax is None and text.lstrip()[:1] in ("{", "[")):
        problem = _json_problem(text)
        if problem is None:
            used, source = "json", text.replace("\t", " ")
        elif syntax == "json":
            raise problem
    composer: _BoundedComposer | None = None
    try:
        composer = _BoundedComposer(source)  # the reader refuses control characters here already
        node = composer.get_single_node()
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, text, used) from None
    except RecursionError:  # the composer's depth bound comes first; this is a last resort
        raise StepProblem(None, "", f"values are nested deeper than {MAX_DEPTH} levels") from None
    finally:
        if composer is not None:
            composer.dispose()
    if node is None:
        return Document(None, used)
    return Document(_TreeBuilder().build(node, "", 0), used)
