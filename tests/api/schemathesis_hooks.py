"""Realistic values where JSON Schema cannot say what is valid, for positive cases only.

Loaded by ``st run`` (``SCHEMATHESIS_HOOKS=tests.api.schemathesis_hooks``, see test_schema_conformance).
Two inputs have a validity no schema can state:

- a command's ``args`` are a language of their own (subcommands, typed positionals, flags in any
  order, regular expressions that must compile), checked by the parser, which answers 422 naming the
  argument; the document points to ``GET /api/v1/commands``, which lists every command's arguments;
- a history ``cursor`` is a token only the service makes (a forged one is a 400).

So a case schemathesis generates as *valid* gets the arguments of one of the command's catalogue
examples, and a cursor the service's own encoder made; every other value stays as generated, and
negative cases (which must be refused) are left alone. Checkpoint ids are pointed at the sandbox's
seeded checkpoint half of the time, so steps are really made, positions really run past the end,
and random ids still meet Virtuoso's 404.
"""

from __future__ import annotations

import hashlib
from typing import Any

import schemathesis
from schemathesis import Case

from virtuoso_api.commands.vocabulary import catalogue, command_names
from virtuoso_api.commands.vocabulary.registry import lookup
from virtuoso_api.history.models import COLLECTION as HISTORY
from virtuoso_api.idempotency import HEADER as IDEMPOTENCY_KEY
from virtuoso_api.infra.documents.port import Document, Query, encode_cursor
from virtuoso_api.sandbox import SEED

_EXAMPLES: dict[str, list[list[str]]] = {}
for _entry in catalogue():
    _EXAMPLES.setdefault(_entry["command"], []).append(list(_entry["example"]["args"]))


def _pick(seed: object, count: int) -> int:
    return int.from_bytes(hashlib.sha256(repr(seed).encode()).digest()[:4], "big") % count


def _realistic_command(command: Any) -> Any:
    if not isinstance(command, dict) or command.get("command") not in command_names(with_aliases=True):
        return command
    examples = _EXAMPLES[lookup(command["command"]).command]  # an alias names its command's examples
    command = {**command, "args": examples[_pick(command.get("args"), len(examples))]}
    if "checkpoint_id" in command and _pick(command["checkpoint_id"], 2) == 0:
        command["checkpoint_id"] = SEED.checkpoint_id
    return command


def _key_for(generated: str, body: object) -> str:
    return f"{generated[:180]}-{hashlib.sha256(repr(body).encode()).hexdigest()[:64]}"


def _real_cursor(generated: str) -> str:
    """A cursor as the service hands out for the history query: after some entry, newest first."""
    query = Query(HISTORY, order_by="timestamp", descending=True)
    second = _pick(generated, 60)
    last = Document(
        id=f"h_{_pick(generated, 10**8):08d}",
        data={"timestamp": f"2026-01-01T00:00:{second:02d}.000000Z"},
    )
    return encode_cursor(query, last)


@schemathesis.hook
def map_case(context: schemathesis.HookContext, case: Case[Any]) -> Case[Any]:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return case
    route = (case.method.upper(), case.operation.path)
    if case.headers and isinstance(case.headers.get(IDEMPOTENCY_KEY), str):
        # A client sends one key per request it means (and the same key only to retry it); a key
        # reused for another body is refused with 422, as the IETF Idempotency-Key draft says.
        case.headers[IDEMPOTENCY_KEY] = _key_for(case.headers[IDEMPOTENCY_KEY], case.body)
    if route == ("POST", "/api/v1/commands"):
        case.body = _realistic_command(case.body)
    elif route == ("POST", "/api/v1/commands/batch") and isinstance(case.body, dict):
        commands = case.body.get("commands")
        if isinstance(commands, list):
            batch = {**case.body, "commands": [_realistic_command(item) for item in commands]}
            if "checkpoint_id" in batch and _pick(batch["checkpoint_id"], 2) == 0:
                batch["checkpoint_id"] = SEED.checkpoint_id
            case.body = batch
    elif route == ("GET", "/api/v1/commands/history") and isinstance((case.query or {}).get("cursor"), str):
        case.query = {**case.query, "cursor": _real_cursor(case.query["cursor"])}
    return case
