"""The suite's top level: its name, starting URL, infrastructure, config, variables and sections,
under every spelling the three dialects use. An unknown key is an error naming it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from virtuoso_api.suites.model import Infrastructure, Ref, SuiteConfig
from virtuoso_api.suites.problems import StepProblem
from virtuoso_api.suites.tree import Entry, Mapping, Node, Scalar, Sequence, describe, scalar
from virtuoso_api.suites.variables import NAME, Value

#: Each field and the keys that spell it, first the one the README uses.
_SPELLINGS: Final[dict[str, tuple[str, ...]]] = {
    "name": ("name", "test", "title"),
    "description": ("description", "desc"),
    "starting_url": ("starting_url", "url", "nav", "start_url", "startingUrl"),
    "base_url": ("base", "base_url", "baseUrl"),
    "organization_id": ("organization_id", "organizationId"),
    "project": ("project", "project_id", "project_name", "projectId"),
    "goal": ("goal", "goal_id", "goal_name", "goalId"),
    "journey": ("journey", "journey_id", "journey_name", "journeyId"),
    "checkpoint": ("checkpoint", "checkpoint_id", "checkpoint_name", "checkpointId"),
    "infrastructure": ("infrastructure",),
    "config": ("config",),
    "variables": ("variables", "vars"),
    "data": ("data",),
    "setup": ("setup",),
    "steps": ("steps", "do"),
    "teardown": ("teardown",),
}
_FIELD_OF: Final = {spelling: name for name, spellings in _SPELLINGS.items() for spelling in spellings}
#: What `infrastructure: {...}` may hold (the simplified dialect's block).
_INFRASTRUCTURE: Final = ("organization_id", "project", "goal", "journey", "checkpoint", "starting_url")
SECTIONS: Final = ("setup", "steps", "teardown")


@dataclass
class Header:
    name: str | None = None
    description: str | None = None
    starting_url: Scalar | None = None
    base_url: Scalar | None = None
    infrastructure: Infrastructure = field(default_factory=Infrastructure)
    config: SuiteConfig = field(default_factory=SuiteConfig)
    variables: dict[str, Value] = field(default_factory=dict)
    #: Section name -> (the key the file used, its list of steps).
    sections: dict[str, tuple[str, Node]] = field(default_factory=dict)
    warnings: list[tuple[int, str, str]] = field(default_factory=list)


def _fields(mapping: Mapping, allowed: dict[str, str], where: str) -> dict[str, Entry]:
    """The mapping's entries by field name; unknown keys and two spellings of one field are errors."""
    found: dict[str, Entry] = {}
    for entry in mapping:
        name = allowed.get(entry.name)
        if name is None:
            known = ", ".join(dict.fromkeys(allowed))
            raise StepProblem(
                entry.key.line, entry.key.path, f"unknown key {entry.name!r:.40} {where}; known keys: {known}"
            )
        if name in found:
            first = found[name].name
            raise StepProblem(
                entry.key.line, entry.key.path, f"{entry.name} and {first} both give the {name}; keep one"
            )
        found[name] = entry
    return found


def _text(node: Node, what: str) -> str:
    value = scalar(node, what)
    if value.is_null or not value.text.strip():
        raise StepProblem(node.line, node.path, f"{what} must not be empty")
    return value.text.strip()


def _id(node: Scalar, what: str) -> int:
    text = node.text.strip()
    if re.fullmatch(r"[1-9][0-9]{0,17}", text) is None:
        raise StepProblem(node.line, node.path, f"{what} must be a positive id, got {text!r:.40}")
    return int(text)


def _ref(entry: Entry, what: str) -> Ref:
    """``project: 9409`` (an id), ``project: Shop`` (a name), ``project: {id, name}``; ``*_id`` keys
    hold ids and ``*_name`` keys names."""
    node = entry.value
    if isinstance(node, Mapping):
        parts = _fields(node, {"id": "id", "name": "name"}, f"in {entry.name}")
        ident = _id(scalar(parts["id"].value, "id"), f"{what} id") if "id" in parts else None
        name = _text(parts["name"].value, f"{what} name") if "name" in parts else None
        if ident is None and name is None:
            raise StepProblem(node.line, node.path, f"{entry.name} needs id or name")
        return Ref(ident, name)
    value = scalar(node, entry.name)
    if entry.name.lower().endswith("name"):
        return Ref(name=_text(value, entry.name))
    digits = re.fullmatch(r"[0-9]+", value.text.strip()) is not None
    if entry.name.lower().endswith("id") or value.kind == "int" or digits:
        return Ref(id=_id(value, entry.name))
    return Ref(name=_text(value, entry.name))


def _infrastructure(header: Header, entries: dict[str, Entry], block: Mapping | None) -> None:
    refs: dict[str, Ref] = {}
    organization: int | None = None
    sources = [entries]
    if block is not None:
        allowed = {s: n for n, spellings in _SPELLINGS.items() if n in _INFRASTRUCTURE for s in spellings}
        sources.append(_fields(block, allowed, "in infrastructure"))
    for found in sources:
        for name in ("project", "goal", "journey", "checkpoint"):
            if name in found:
                if name in refs:
                    raise StepProblem(
                        found[name].key.line, found[name].key.path, f"the {name} is given twice"
                    )
                refs[name] = _ref(found[name], name)
        if "organization_id" in found:
            organization = _id(scalar(found["organization_id"].value, "organization_id"), "organization_id")
        if found is not entries and "starting_url" in found:
            if header.starting_url is not None:
                raise StepProblem(
                    found["starting_url"].key.line,
                    found["starting_url"].key.path,
                    "the starting URL is given twice",
                )
            header.starting_url = scalar(found["starting_url"].value, "starting_url")
    header.infrastructure = Infrastructure(
        organization, refs.get("project"), refs.get("goal"), refs.get("journey"), refs.get("checkpoint")
    )


def _config(header: Header, node: Node) -> None:
    if not isinstance(node, Mapping):
        raise StepProblem(node.line, node.path, f"config must be a map, got {describe(node)}")
    allowed = {
        "continue_on_error": "continue_on_error",
        "continueOnError": "continue_on_error",
        "on_error": "on_error",
        "timeout": "timeout",
        "retry": "retries",
        "retries": "retries",
        "viewport": "viewport",
        "screenshot_on_error": "screenshot_on_error",
        "default_timeout": "default_timeout",
    }
    found = _fields(node, allowed, "in config")
    config = SuiteConfig()
    if "continue_on_error" in found and "on_error" in found:
        raise StepProblem(
            found["on_error"].key.line,
            found["on_error"].key.path,
            "give continue_on_error or on_error, not both",
        )
    if "continue_on_error" in found:
        config = SuiteConfig(
            continue_on_error=scalar(found["continue_on_error"].value, "continue_on_error").boolean()
        )
    if "on_error" in found:
        value = scalar(found["on_error"].value, "on_error")
        choice = value.text.strip().lower()
        if choice not in ("continue", "stop", "fail"):
            raise StepProblem(value.line, value.path, f"on_error is continue or stop, got {value.text!r:.20}")
        config = SuiteConfig(continue_on_error=choice == "continue")
    timeout = (
        scalar(found["timeout"].value, "timeout").whole("timeout (seconds)") if "timeout" in found else None
    )
    retries = scalar(found["retries"].value, "retries").whole("retries") if "retries" in found else None
    viewport = _text(found["viewport"].value, "viewport") if "viewport" in found else None
    header.config = SuiteConfig(config.continue_on_error, timeout, retries, viewport)
    for unused, why in (
        ("screenshot_on_error", "Virtuoso keeps a screenshot of every step itself"),
        ("default_timeout", "give a wait step its own timeout instead"),
    ):
        if unused in found:
            key = found[unused].key
            header.warnings.append((key.line, key.path, f"config.{key.text} is not used: {why}"))


def _variable_value(node: Node, name: str) -> Value:
    if isinstance(node, Sequence):
        return [scalar(item, f"an item of {name}").text for item in node]
    if isinstance(node, Mapping):
        raise StepProblem(
            node.line, node.path, f"{name}: a variable holds a value or a list of values, not a map"
        )
    return "" if node.is_null else node.text


def _variables(header: Header, node: Node, key: str) -> None:
    """``variables: [{name, value}]`` (simplified), or a map ``{name: value}`` (``data`` in compact)."""
    pairs: list[tuple[Scalar, Node]] = []
    if isinstance(node, Mapping):
        pairs = [(entry.key, entry.value) for entry in node]
    elif isinstance(node, Sequence):
        for item in node:
            named = item.get("name") if isinstance(item, Mapping) else None
            if not isinstance(item, Mapping) or named is None or set(item.names()) - {"name", "value"}:
                raise StepProblem(item.line, item.path, f"each of {key} is {{name: NAME, value: VALUE}}")
            pairs.append(
                (scalar(named, "name"), item.get("value") or Scalar(item.line, item.path, "", "null"))
            )
    else:
        raise StepProblem(
            node.line, node.path, f"{key} must be a map of names to values, got {describe(node)}"
        )
    for name_node, value in pairs:
        name = name_node.text.strip()
        if NAME.fullmatch(name) is None:
            raise StepProblem(
                name_node.line, name_node.path, f"{name!r:.40} is not a variable name (letters, digits, _)"
            )
        if name in header.variables:
            raise StepProblem(name_node.line, name_node.path, f"the variable {name} is defined twice")
        header.variables[name] = _variable_value(value, name)


def read_header(root: Mapping) -> Header:
    header = Header()
    found = _fields(root, _FIELD_OF, "at the top of the suite")
    if "name" in found:
        header.name = _text(found["name"].value, found["name"].name)
    if "description" in found:
        value = scalar(found["description"].value, "description")
        header.description = None if value.is_null else value.text
    if "starting_url" in found:
        header.starting_url = scalar(found["starting_url"].value, found["starting_url"].name)
    if "base_url" in found:
        header.base_url = scalar(found["base_url"].value, found["base_url"].name)
    block = found.get("infrastructure")
    if block is not None and not isinstance(block.value, Mapping):
        raise StepProblem(block.value.line, block.value.path, "infrastructure must be a map")
    _infrastructure(
        header, found, block.value if block is not None and isinstance(block.value, Mapping) else None
    )
    if "config" in found:
        _config(header, found["config"].value)
    for key in ("variables", "data"):
        if key in found:
            _variables(header, found[key].value, found[key].name)
    for section in SECTIONS:
        if section in found:
            header.sections[section] = (found[section].name, found[section].value)
    return header
