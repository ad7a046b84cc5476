"""``parse_suite``: a suite file's text to a :class:`~virtuoso_api.suites.model.Suite`, or every problem.

1. read the text (YAML or JSON) into a tree with lines, bounded against hostile input;
2. read the header (name, URLs, infrastructure, config, variables) under every dialect's spellings;
3. tell the dialect from the file's shape (compact: ``setup``/``do``/``teardown``; extended: steps
   that name an ``action``; otherwise simplified);
4. read every step into a vocabulary command, checked by ``parse_command``.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from collections.abc import Sequence as SequenceType
from pathlib import PurePath

from virtuoso_api.commands.vocabulary.validate import URL
from virtuoso_api.errors import InvalidInput
from virtuoso_api.suites.document import Syntax, decode, load_document
from virtuoso_api.suites.fields import Context
from virtuoso_api.suites.header import SECTIONS, Header, read_header
from virtuoso_api.suites.model import Dialect, Section, Suite
from virtuoso_api.suites.problems import Problem, StepProblem, SuiteInvalid
from virtuoso_api.suites.steps import StepReader, TooManySteps, is_extended
from virtuoso_api.suites.tree import Mapping, Scalar, Sequence, describe
from virtuoso_api.suites.variables import NAME, Value, Variables


def parse_assignments(assignments: SequenceType[str], field: str = "--var") -> dict[str, str]:
    """``["NAME=VALUE", ...]`` (``--var``) to a dict; a malformed one is :class:`InvalidInput`."""
    values: dict[str, str] = {}
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or NAME.fullmatch(name.strip()) is None:
            raise InvalidInput(
                field, f"must be NAME=VALUE with a variable name (letters, digits, _), got {assignment!r:.60}"
            )
        values[name.strip()] = value
    return values


def _dialect(root: Mapping, header: Header) -> Dialect:
    if (
        "steps" not in header.sections
        and "setup" not in header.sections
        and "teardown" not in header.sections
    ):
        raise StepProblem(root.line, "", "no steps: list them under steps (or setup, do and teardown)")
    used = {key for key, _ in header.sections.values()}
    if "do" in used or ("steps" not in used and ("setup" in used or "teardown" in used)):
        return Dialect.COMPACT
    if "test" in root.names() or "data" in root.names():
        return Dialect.COMPACT
    for _, node in header.sections.values():
        if isinstance(node, Sequence) and any(is_extended(step) for step in node):
            return Dialect.EXTENDED
    return Dialect.SIMPLIFIED


def _default_name(source: str) -> str | None:
    stem = PurePath(source).stem
    return stem if stem and source not in ("-", "<stdin>", "body") else None


def _url(node: Scalar | None, context: Context, problems: list[Problem]) -> str | None:
    """The starting or base URL: variables filled in, an absolute http(s) URL (the vocabulary's rule)."""
    if node is None or node.is_null:
        return None
    try:
        return URL.convert(context.url(node, relative=False), node.path)
    except InvalidInput as exc:
        problems.append(Problem(node.line, node.path, exc.reason))
    except StepProblem as exc:
        problems.append(exc.problem)
    return None


def _unique(problems: list[Problem]) -> list[Problem]:
    # A loop repeats its body's problem once per item: report it once, in file order.
    seen = dict.fromkeys(problems)
    return sorted(seen, key=lambda p: (p.line or 0, p.field))


def _read(content: str | bytes, syntax: Syntax | None) -> tuple[Mapping, Header, Dialect, Syntax]:
    text = decode(content) if isinstance(content, bytes) else content
    document = load_document(text, syntax=syntax)
    root = document.root
    if not isinstance(root, Mapping):
        what = "an empty file" if root is None else describe(root)
        raise StepProblem(
            root.line if root else None, "", f"a suite is a map with name and steps, got {what}"
        )
    header = read_header(root)
    return root, header, _dialect(root, header), document.syntax


def _sections(header: Header, context: Context, problems: list[Problem]) -> list[Section]:
    reader = StepReader()
    sections: list[Section] = []
    try:
        for section in SECTIONS:
            if section not in header.sections:
                continue
            key, node = header.sections[section]
            try:
                steps = reader.read(node, context)
            except StepProblem as exc:
                problems.append(exc.problem)
                continue
            if isinstance(node, Sequence) and not node.items:
                problems.append(Problem(node.line, node.path, f"{key} has no steps"))
            sections.append(Section(key, node.line, tuple(steps)))
    except TooManySteps as exc:
        problems.append(exc.problem)
    problems.extend(reader.problems)
    return sections


def parse_suite(
    content: str | bytes,
    *,
    source: str = "suite",
    syntax: Syntax | None = None,
    variables: MappingType[str, str] | None = None,
) -> Suite:
    """Parse one suite; :class:`SuiteInvalid` lists every problem with its line.

    ``source`` names the file in messages (and gives the default name); ``syntax`` forces JSON or
    YAML (else a file starting with ``{`` or ``[`` is tried as JSON first); ``variables`` are the
    ``--var`` values, over the file's own."""
    warnings: list[Problem] = []

    def warn(line: int, path: str, message: str) -> None:
        warnings.append(Problem(line, path, message))

    try:
        root, header, dialect, used = _read(content, syntax)
    except StepProblem as exc:
        raise SuiteInvalid(source, [exc.problem]) from None
    warnings.extend(Problem(*item) for item in header.warnings)
    values: dict[str, Value] = {**header.variables, **(variables or {})}
    store = Variables(values, warn)
    problems: list[Problem] = []
    base_url = _url(header.base_url, Context(store, warn, None), problems)
    context = Context(store, warn, base_url)
    starting_url = _url(header.starting_url, context, problems) or base_url
    name = header.name or _default_name(source)
    if name is None:
        problems.append(Problem(root.line, "name", "a suite needs a name (name: or test:)"))
    sections = _sections(header, context, problems)
    if problems:
        raise SuiteInvalid(source, _unique(problems))
    if not any(section.steps for section in sections):
        raise SuiteInvalid(source, [Problem(root.line, "", "the suite has no steps")])
    assert name is not None
    return Suite(
        source=source,
        name=name,
        description=header.description,
        dialect=dialect,
        syntax=used,
        starting_url=starting_url,
        infrastructure=header.infrastructure,
        config=header.config,
        variables=values,
        sections=tuple(sections),
        warnings=tuple(_unique(warnings)),
    )
