"""Realistic values where JSON Schema cannot say what is valid, for positive cases only.

Loaded by ``st run`` (``SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks``, see test_schema_conformance).
Four inputs have a validity no schema can state:

- a command's ``args`` are a language of their own (subcommands, typed positionals, flags in any
  order, regular expressions that must compile), checked by the parser, which answers 422 naming the
  argument; the document points to ``GET /api/v1/commands``, which lists every command's arguments;
- a suite file is a language too (three dialects and their verbs), checked by the suite parser, which
  answers 422 naming each problem's line (``/suites/validate`` takes it as the body, ``/suites/runs``
  as the text of ``suite``);
- a ``cursor`` (history, jobs, runs, webhook deliveries) is a token only the service makes (a forged
  one is refused);
- a webhook's ``url`` must not reach what only the service can (the SSRF guard, ``webhooks/targets.py``).

So a case schemathesis generates as *valid* gets the arguments of one of the command's catalogue
examples, one of the example suites the parser takes, and a cursor the service's own encoder made;
every other value stays as generated, and negative cases (which must be refused) are left alone.
Checkpoint ids are pointed at a checkpoint of the test's own half of the time, and the goal, journey
or plan a run starts at the sandbox's seeded ones, so steps are really made, runs really start,
positions really run past the end, and random ids still meet Virtuoso's 404. A client sends one
``Idempotency-Key`` per request it means, so a valid case's key is made its body's own.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import schemathesis
import yaml
from schemathesis import Case

from virtuoso_api.commands.vocabulary import catalogue, command_names
from virtuoso_api.commands.vocabulary.registry import lookup
from virtuoso_api.history.models import COLLECTION as HISTORY
from virtuoso_api.idempotency import HEADER as IDEMPOTENCY_KEY
from virtuoso_api.infra.documents.port import Document, Query, encode_cursor
from virtuoso_api.jobs.models import COLLECTION as JOBS
from virtuoso_api.runs.models import COLLECTION as RUNS
from virtuoso_api.sandbox import SEED
from virtuoso_api.suites.parser import parse_suite
from virtuoso_api.suites.problems import SuiteInvalid
from virtuoso_api.webhooks.models import DELIVERIES

_SUITE_FILES = Path(__file__).resolve().parents[1] / "suites" / "examples"

_COMMANDS = {("POST", "/api/v1/commands"), ("POST", "/api/v1/commands/async")}
_BATCHES = {("POST", "/api/v1/commands/batch"), ("POST", "/api/v1/commands/batch/async")}
_SUITES = ("POST", "/api/v1/suites/validate")
_SUITE_RUNS = ("POST", "/api/v1/suites/runs")
_WEBHOOK_BODIES = {("POST", "/api/v1/webhooks"), ("PATCH", "/api/v1/webhooks/{webhook_id}")}
#: The routes that page with a cursor, and the query their cursors belong to (newest first).
_CURSORS = {
    ("GET", "/api/v1/commands/history"): Query(HISTORY, order_by="timestamp", descending=True),
    ("GET", "/api/v1/jobs"): Query(JOBS, order_by="created_at", descending=True),
    ("GET", "/api/v1/runs"): Query(RUNS, order_by="started_at", descending=True),
    ("GET", "/api/v1/webhooks/dead-letters"): Query(DELIVERIES, order_by="created_at", descending=True),
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): Query(
        DELIVERIES, order_by="created_at", descending=True
    ),
}


def _command_examples() -> dict[str, list[list[str]]]:
    examples: dict[str, list[list[str]]] = {}
    for entry in catalogue():
        examples.setdefault(entry["command"], []).append(list(entry["example"]["args"]))
    return examples


def _valid_suites() -> list[str]:
    """The example suites the parser takes (the others are for its refusals' tests), and takes still
    once schemathesis has written them back from their loaded form (PyYAML reads YAML 1.1, where
    ``on:`` is ``true:``)."""
    valid = []
    for path in sorted(_SUITE_FILES.rglob("*.yaml")):
        text = path.read_text()
        try:
            parse_suite(text, source=path.name)
            parse_suite(yaml.safe_dump(yaml.safe_load(text), allow_unicode=True), source=path.name)
        except SuiteInvalid:
            continue
        valid.append(text)
    return valid


#: Where steps go: a checkpoint the test made in a goal of its own, so the seeded goal's runs stay a
#: few steps long (a run takes half a second a step, and `wait` holds an answer until it ends).
STEPS_CHECKPOINT = int(os.environ.get("SCHEMATHESIS_CHECKPOINT", SEED.checkpoint_id))

#: Where webhooks deliver (set by the test): never a host out there.
WEBHOOK_RECEIVER = os.environ.get("SCHEMATHESIS_WEBHOOK_RECEIVER", "http://127.0.0.1:9/receive")

_EXAMPLES = _command_examples()
_SUITE_TEXTS = _valid_suites()


def _pick(seed: object, count: int) -> int:
    return int.from_bytes(hashlib.sha256(repr(seed).encode()).digest()[:4], "big") % count


def _realistic_command(command: Any) -> Any:
    if not isinstance(command, dict) or command.get("command") not in command_names(with_aliases=True):
        return command
    examples = _EXAMPLES[lookup(command["command"]).command]  # an alias names its command's examples
    command = {**command, "args": examples[_pick(command.get("args"), len(examples))]}
    if "checkpoint_id" in command and _pick(command["checkpoint_id"], 2) == 0:
        command["checkpoint_id"] = STEPS_CHECKPOINT
    return command


def _realistic_batch(batch: dict[str, Any]) -> dict[str, Any]:
    commands = batch.get("commands")
    if not isinstance(commands, list):
        return batch
    batch = {**batch, "commands": [_realistic_command(item) for item in commands]}
    if "checkpoint_id" in batch and _pick(batch["checkpoint_id"], 2) == 0:
        batch["checkpoint_id"] = STEPS_CHECKPOINT
    return batch


def _realistic_run(body: Any) -> Any:
    """Half the runs start the sandbox's seeded goal, journey or plan (the rest meet Virtuoso's 404);
    journeys are named as that goal has them, since a name it lacks is refused (422 naming it)."""
    if not isinstance(body, dict) or _pick(body, 2):
        return body
    seeded = {"goal_id": SEED.goal_id, "journey_id": SEED.journey_id, "plan_id": SEED.plan_id}
    body = {name: seeded.get(name, value) if value is not None else None for name, value in body.items()}
    if body.get("snapshot_id") is not None:
        body["snapshot_id"] = SEED.snapshot_id
    if body.get("journeys"):
        body["journeys"] = [[SEED.journey_id], ["Demo journey"]][_pick(body["journeys"], 2)]
    return body


def _realistic_webhook(body: Any) -> Any:
    """A webhook's URL is checked for what it would reach (https, no private or metadata address);
    a valid case gets the test's receiver (the served process itself: its 404 is a delivery that
    failed at once), allowed by WEBHOOK_ALLOW_LOCAL_TARGETS."""
    if isinstance(body, dict) and isinstance(body.get("url"), str):
        return {**body, "url": f"{WEBHOOK_RECEIVER}/{_pick(body['url'], 1000)}"}
    return body


def _realistic_suite(case: Case[Any]) -> Any:
    # Values the document's schema admits: schemathesis checks a hook's values again, and one it
    # does not admit would turn the case into a negative one.
    text = _SUITE_TEXTS[_pick(case.body, len(_SUITE_TEXTS))]
    if case.media_type == "multipart/form-data":
        return {"file": text}
    return yaml.safe_load(text)  # schemathesis writes it back as YAML or JSON, as the media type says


#: What a valid suite run runs: two steps. The examples' realism is /suites/validate's to test; each
#: run here makes real steps (and events, webhook deliveries, dead letters that `replay` with `all`
#: resends within the client's timeout), so a 20-step example per case would only load the server.
_SMALL_SUITES = (
    "name: Schemathesis {n}\nstarting_url: https://example.com\n"
    "steps:\n  - click: Sign in\n  - assert: Welcome\n",
    '{{"test": "Schemathesis {n}", "nav": "https://example.com", '
    '"do": [{{"c": "Sign in"}}, {{"ch": "Welcome"}}]}}',
)


def _realistic_suite_run(body: Any) -> Any:
    """A suite run's ``suite`` is a file's text (YAML or JSON, named apart so runs do not share a
    journey), with no variables over the file's (a random value would land in a URL, refused)."""
    if not isinstance(body, dict) or not isinstance(body.get("suite"), str):
        return body
    pick = _pick(body["suite"], 1000)
    text = _SMALL_SUITES[pick % 2].format(n=pick)
    syntax = ("yaml", "json")[pick % 2] if body.get("syntax") is not None else None
    return {**body, "suite": text, "syntax": syntax, "variables": {}}


def _short_wait(wait: Any) -> Any:
    """Holding an answer up to a minute is what ``wait`` is for (tests/runs wait for real); half a
    second takes the same path without each case taking a minute. Coverage sends it as text."""
    try:
        seconds = float(wait)
    except (TypeError, ValueError):
        return wait
    return wait if seconds <= 0.5 else (0.5 if isinstance(wait, int | float) else "0.5")


def _key_for(generated: str, body: object) -> str:
    return f"{generated[:180]}-{hashlib.sha256(repr(body).encode()).hexdigest()[:64]}"


def _real_cursor(query: Query, generated: str) -> str:
    """A cursor as the service hands out for ``query``: after some document, newest first."""
    assert query.order_by is not None
    second = _pick(generated, 60)
    last = Document(
        id=f"d_{_pick(generated, 10**8):08d}",
        data={query.order_by: f"2026-01-01T00:00:{second:02d}.000000Z"},
    )
    return encode_cursor(query, last)


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: Case[Any]) -> Case[Any]:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    route = (case.method.upper(), case.operation.path)
    if route in _COMMANDS:
        case.body = _realistic_command(case.body)
    elif route in _BATCHES and isinstance(case.body, dict):
        case.body = _realistic_batch(case.body)
    elif route == ("POST", "/api/v1/runs"):
        case.body = _realistic_run(case.body)
    elif route in _WEBHOOK_BODIES:
        case.body = _realistic_webhook(case.body)
    elif route == _SUITES:
        case.body = _realistic_suite(case)
    elif route == _SUITE_RUNS:
        case.body = _realistic_suite_run(case.body)
    elif route == ("GET", "/api/v1/runs/{execution_id}") and (case.query or {}).get("wait") is not None:
        case.query = {**case.query, "wait": _short_wait(case.query["wait"])}
    elif route in _CURSORS and isinstance((case.query or {}).get("cursor"), str):
        case.query = {**case.query, "cursor": _real_cursor(_CURSORS[route], case.query["cursor"])}
    if case.headers and isinstance(case.headers.get(IDEMPOTENCY_KEY), str):
        # A key reused for another body is refused with 422, as the IETF Idempotency-Key draft says.
        case.headers[IDEMPOTENCY_KEY] = _key_for(case.headers[IDEMPOTENCY_KEY], case.body)
    return case
