"""Step nodes to vocabulary commands: find the step's action in any dialect, let its handler build
``(command, args)``, and check the result with the vocabulary's own parser (the one payload builder).

Each step's problem is recorded with its line and reading goes on, so a file is reported whole. A
compact ``loop`` over the file's data is unrolled and an ``if`` on the file's data is decided here;
one that depends on the page at run time cannot be expressed (Virtuoso steps have neither) and is an
error, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from virtuoso_api.commands.vocabulary import StepCommand, parse_command
from virtuoso_api.errors import InvalidInput
from virtuoso_api.suites import verbs_browser, verbs_checks, verbs_page
from virtuoso_api.suites.fields import Args, Context, Fields, Token
from virtuoso_api.suites.model import SuiteStep
from virtuoso_api.suites.problems import Problem, StepProblem
from virtuoso_api.suites.spellings import VERBS, Verb, normalise, verb
from virtuoso_api.suites.tree import Entry, Mapping, Node, Scalar, Sequence, describe, scalar
from virtuoso_api.suites.variables import NAME

#: Steps in one suite once loops are unrolled; more is refused (a suite that size is several suites).
MAX_STEPS: Final = 1000

Handler = Callable[[Fields], Args]

_HANDLERS: Final[dict[str, Handler]] = {
    "navigate": verbs_page.navigate,
    "scroll": verbs_page.scroll,
    "click": verbs_page.click,
    "double-click": verbs_page.double_click,
    "right-click": verbs_page.right_click,
    "hover": verbs_page.hover,
    "write": verbs_page.write,
    "key": verbs_page.key,
    "select": verbs_page.select,
    "mouse": verbs_page.mouse,
    "upload": verbs_page.upload,
    "wait": verbs_checks.wait,
    "store": verbs_checks.store,
    "cookie": verbs_browser.cookie,
    "window": verbs_browser.window,
    "switch-tab": verbs_browser.switch_tab,
    "switch-frame": verbs_browser.switch_frame,
    "dialog": verbs_browser.dialog,
    "comment": verbs_browser.comment,
    "execute": verbs_browser.execute,
}
_STEP_NAMES: Final = ", ".join(sorted({*_HANDLERS, "assert", "if", "loop"}))
_NATURAL_LANGUAGE = (
    "a step is a map such as `click: Login` or `write: {{selector: Email, text: a@b.c}}`; "
    "plain sentences ({text!r:.60}) are not steps: Virtuoso's API takes structured steps"
)


class TooManySteps(Exception):
    """The suite passed :data:`MAX_STEPS`: reading stops (it is not worth reporting every step)."""

    def __init__(self, line: int, path: str) -> None:
        super().__init__()
        self.problem = Problem(
            line, path, f"the suite has more than {MAX_STEPS} steps; split it into several files"
        )


def is_extended(step: Node) -> bool:
    """An extended step names its action in a field: ``{action: click}`` or ``{type: x, command: y}``."""
    return isinstance(step, Mapping) and ("action" in step.names() or "command" in step.names())


class StepReader:
    """Reads the steps of one suite; ``problems`` collects what is wrong, with lines."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.count = 0

    def read(self, items: Node, context: Context) -> list[SuiteStep]:
        if not isinstance(items, Sequence):
            raise StepProblem(items.line, items.path, f"must be a list of steps, got {describe(items)}")
        steps: list[SuiteStep] = []
        for item in items:
            try:
                steps.extend(self._item(item, context))
            except StepProblem as exc:
                self.problems.append(exc.problem)
        return steps

    def _item(self, item: Node, context: Context) -> list[SuiteStep]:
        if isinstance(item, Scalar):
            raise StepProblem(item.line, item.path, _NATURAL_LANGUAGE.format(text=item.text))
        if isinstance(item, Sequence):
            raise StepProblem(item.line, item.path, "a step is a map such as `click: Login`, not a list")
        if not item.entries:
            raise StepProblem(item.line, item.path, "an empty step")
        if is_extended(item):
            return [self._step(*_extended(item, context), item)]
        first = item.entries[0]
        found = verb(first.name)
        if found is None:
            raise StepProblem(
                first.key.line, first.key.path, f"unknown step {first.name!r:.40}; steps are {_STEP_NAMES}"
            )
        if found.handler == "loop":
            return self._loop(first, item, context)
        if found.handler == "if":
            return self._if(first, item, context)
        if found.handler == "run":
            raise StepProblem(
                first.key.line, first.key.path, "running another suite is not supported; copy its steps"
            )
        main, named = _split(first, item.entries[1:])
        return [self._step(found, Fields(first.name, item.line, item.path, main, named, context), item)]

    def _step(self, found: Verb, fields: Fields, item: Mapping) -> SuiteStep:
        if found.handler == "assert":
            args = verbs_checks.assertion(fields, found.assertion)
        else:
            args = _HANDLERS[found.handler](fields)
        description = fields.description()
        fields.finish()
        self.count += 1
        if self.count > MAX_STEPS:
            raise TooManySteps(item.line, item.path)
        tokens = args.tokens()
        return SuiteStep(
            line=item.line,
            command=args.command,
            args=tuple(token.text for token in tokens),
            parsed=_checked(args.command, tokens, item),
            description=description,
        )

    # -- control flow decided from the file's data ---------------------------------------------------

    def _loop(self, first: Entry, item: Mapping, context: Context) -> list[SuiteStep]:
        spec = _only(first, item)
        over = spec.get("over")
        body = spec.get("do")
        if over is None or body is None:
            raise StepProblem(
                spec.line, spec.path, "loop needs over: (a list, or a list from data) and do: (steps)"
            )
        unknown = [name for name in spec.names() if name not in ("over", "as", "do", "max")]
        if unknown:
            raise StepProblem(
                spec.line, spec.path, f"loop takes over, as, do and max, not {unknown[0]!r:.40}"
            )
        values = _loop_values(over, context)
        name_node = spec.get("as")
        name = scalar(name_node, "as").text.strip().removeprefix("$") if name_node else "item"
        if NAME.fullmatch(name) is None:
            raise StepProblem(spec.line, spec.path, f"as: {name!r:.40} is not a variable name")
        limit = spec.get("max")
        if limit is not None:
            values = values[: scalar(limit, "max").whole("max")]
        steps: list[SuiteStep] = []
        for value in values:
            steps.extend(self.read(body, context.with_variables(context.variables.with_value(name, value))))
        return steps

    def _if(self, first: Entry, item: Mapping, context: Context) -> list[SuiteStep]:
        spec = _only(first, item)
        condition = spec.get("cond") or spec.get("condition")
        if condition is None:
            raise StepProblem(
                spec.line, spec.path, "if needs cond: (a condition on the file's data), then: and else:"
            )
        unknown = [name for name in spec.names() if name not in ("cond", "condition", "then", "else")]
        if unknown:
            raise StepProblem(spec.line, spec.path, f"if takes cond, then and else, not {unknown[0]!r:.40}")
        branch = spec.get("then") if _decide(scalar(condition, "cond"), context) else spec.get("else")
        return [] if branch is None else self.read(branch, context)


def _split(first: Entry, siblings: tuple[Entry, ...]) -> tuple[Node | None, list[Entry]]:
    """A one-key step's main value and named fields: ``write: {selector, text}`` and ``t: x`` + ``in: y``."""
    if isinstance(first.value, Mapping):
        nested = {entry.name for entry in first.value}
        for sibling in siblings:
            if sibling.name in nested:
                raise StepProblem(
                    sibling.key.line, sibling.key.path, f"{sibling.name} is also given inside {first.name}"
                )
        return None, [*first.value.entries, *siblings]
    return first.value, list(siblings)


def _extended(item: Mapping, context: Context) -> tuple[Verb, Fields]:
    """``{action: click, hint: X}`` or ``{type: assert, command: equals, target, value}``."""
    action = item.get("action")
    command = item.get("command")
    group_node = item.get("type") if command is not None and action is None else None
    named = [
        entry
        for entry in item
        if entry.name not in ("action", "command") and not (group_node and entry.name == "type")
    ]
    word_node = scalar(action if action is not None else command, "action")  # type: ignore[arg-type]
    word = normalise(word_node.text)
    group = normalise(scalar(group_node, "type").text) if group_node is not None else None
    found: Verb | None
    if group == "assert":
        found = Verb("assert", word)
    elif group == "wait":
        found = VERBS["wait"]
        if word == "time":  # the extended form's time is milliseconds, as the original's wait time
            named = [
                Entry(Scalar(e.key.line, e.key.path, "ms", "str"), e.value) if e.name == "value" else e
                for e in named
            ]
    elif group == "navigate" and word in ("to", "url", "goto"):
        found = VERBS["navigate"]
    else:
        found = verb(word) or (verb(group) if group else None)
    if found is None or found.handler in ("if", "loop", "run"):
        raise StepProblem(
            word_node.line,
            word_node.path,
            f"unknown action {word_node.text!r:.40}; actions are {_STEP_NAMES}",
        )
    return found, Fields(word_node.text, item.line, item.path, None, named, context)


def _only(first: Entry, item: Mapping) -> Mapping:
    if len(item.entries) > 1:
        extra = item.entries[1]
        raise StepProblem(
            extra.key.line, extra.key.path, f"{first.name} takes no sibling keys; put them inside it"
        )
    if not isinstance(first.value, Mapping):
        raise StepProblem(
            first.value.line, first.value.path, f"{first.name} takes a map, got {describe(first.value)}"
        )
    return first.value


_REFERENCE = re.compile(r"\s*(?:\$([A-Za-z_]\w*)|\{\{\s*([A-Za-z_]\w*)\s*\}\}|([A-Za-z_]\w*))\s*")
_COMPARISON = re.compile(r"(?P<left>.+?)\s*(?P<op>==|!=)\s*(?P<right>.+)")
_FALSY: Final = frozenset({"", "false", "no", "off", "0", "n"})


def _reference(text: str, context: Context) -> str | list[str] | None:
    match = _REFERENCE.fullmatch(text)
    if match is None:
        return None
    return context.variables.get(next(group for group in match.groups() if group))


def _decide(condition: Scalar, context: Context) -> bool:
    text = condition.text.strip()
    if condition.kind == "bool":
        return condition.boolean()
    comparison = _COMPARISON.fullmatch(text)
    if comparison is not None:
        left = _reference(comparison.group("left"), context)
        if isinstance(left, str):
            right = comparison.group("right").strip().strip("\"'")
            return (left == right) == (comparison.group("op") == "==")
    else:
        value = _reference(text, context)
        if value is not None:
            return bool(value) if isinstance(value, list) else value.strip().lower() not in _FALSY
    raise StepProblem(
        condition.line,
        condition.path,
        f"the condition {text!r:.60} is not known before the run (it depends on the page or on a variable "
        "set while running), and Virtuoso steps have no conditions; a condition on the file's data "
        "($name, $name == value) is decided here",
    )


def _loop_values(over: Node, context: Context) -> list[str]:
    if isinstance(over, Sequence):
        return [context.text(scalar(value, value.path)) for value in over]
    reference = _reference(scalar(over, "over").text, context)
    if isinstance(reference, list):
        return reference
    raise StepProblem(
        over.line,
        over.path,
        f"loop over {describe(over)}: not a list the file's data holds; a loop over what the page shows at "
        "run time cannot be expressed (Virtuoso steps have no loops)",
    )


def _checked(command: str, tokens: list[Token], item: Mapping) -> StepCommand:
    """The vocabulary's verdict on the built command, its complaint placed on the field it came from."""
    try:
        parsed = parse_command(command, [token.text for token in tokens])
    except InvalidInput as exc:
        token = _token_of(exc.field, tokens)
        line, path = (token.line, token.path) if token is not None and token.line else (item.line, item.path)
        raise StepProblem(line, path, exc.reason) from None
    if not isinstance(parsed, StepCommand):  # every handler builds a step-* command
        raise StepProblem(item.line, item.path, f"{command} is not a step command")
    return parsed


def _token_of(field: str, tokens: list[Token]) -> Token | None:
    index = re.fullmatch(r"args\[(\d+)\]", field)
    if index is not None:
        position = int(index.group(1))
        return tokens[position] if position < len(tokens) else (tokens[-1] if tokens else None)
    if field.startswith("args.--"):
        spelling = field.removeprefix("args.")
        return next((token for token in tokens if token.text == spelling), None)
    return None
