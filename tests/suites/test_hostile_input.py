"""Hostile suite files are refused as problems with lines (never an exception of another kind, never
a constructed object), within bounds: aliases, expansion, nesting, size, steps, encodings."""

from __future__ import annotations

from pathlib import Path

import pytest

from virtuoso_api.suites import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_SOURCE_BYTES,
    MAX_STEPS,
    MAX_VALUES,
    SuiteInvalid,
    parse_suite,
)


def refused(content: str | bytes) -> list[tuple[int | None, str]]:
    with pytest.raises(SuiteInvalid) as refusal:
        parse_suite(content, source="evil.yaml")
    return [(problem.line, problem.message) for problem in refusal.value.problems]


def billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + previous] * 9)}]")
    return "\n".join(lines) + "\nname: x\nsteps: [{comment: *i}]\n"


def test_billion_laughs_stops_at_the_value_bound() -> None:
    assert refused(billion_laughs()) == [
        (1, f"the file expands to more than {MAX_VALUES} values (through its aliases)")
    ]


def test_too_many_aliases() -> None:
    text = "a: &a x\nname: t\nsteps:\n" + "".join("  - comment: *a\n" for _ in range(MAX_ALIASES + 1))
    assert refused(text) == [
        (MAX_ALIASES + 4, f"not readable as YAML: more than {MAX_ALIASES} aliases (*name)")
    ]


def test_an_alias_loop() -> None:
    assert refused("name: t\nsteps: &s [*s]\n")[0][1].startswith(
        f"values are nested deeper than {MAX_DEPTH} levels"
    )


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000 + "]" * 50_000,  # flow style (also tried as JSON first)
        "name: t\nsteps:\n" + "".join("  " * depth + "- \n" for depth in range(1, 300)),  # block style
        "{" + '"a":{' * 5_000 + "}" * 5_001,
    ],
    ids=["flow", "block", "json"],
)
def test_deep_nesting_is_bounded(text: str) -> None:
    messages = [message for _, message in refused(text)]
    assert len(messages) == 1
    assert f"nested deeper than {MAX_DEPTH} levels" in messages[0]


def test_python_tags_construct_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f'name: t\nsteps:\n  - comment: !!python/object/apply:os.system ["touch {marker}"]\n'
    assert refused(text) == [
        (
            3,
            "not readable as YAML: the tag !!python/object/apply:os.system is not allowed in a suite "
            "(plain values only)",
        )
    ]
    assert not marker.exists()
    assert refused("name: !custom t\nsteps: [{c: x}]\n")[0][0] == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"x" * (MAX_SOURCE_BYTES + 1), (None, f"the file is larger than {MAX_SOURCE_BYTES} bytes")),
        (b"name: t\nsteps:\n  - comment: caf\xe9\n", (3, "is not UTF-8 text (byte 0xe9 at offset 31)")),
        (
            "name: t\nsteps:\n  - comment: a\x00b\n",
            (3, "not readable as YAML: the control character U+0000 is not allowed"),
        ),
        (
            'name: t\nsteps:\n  - comment: "\\ud800"\n',
            (3, "is not valid Unicode text (a lone surrogate escape)"),
        ),
        (
            "base: &b {name: t}\n<<: *b\nsteps: [{c: x}]\n",
            (2, "merge keys (<<) are not supported; write the keys out"),
        ),
        (
            "name: t\nsteps: [{c: x}]\n---\nname: u\n",
            (3, "not readable as YAML: expected a single document in the stream, but found another document"),
        ),
        ('{"name": "t", "steps": [{"wait": ' + "9" * 5000 + "}]}", None),
    ],
    ids=["too-large", "latin-1", "nul", "surrogate", "merge", "two-documents", "huge-number"],
)
def test_malformed_text(content: str | bytes, problem: tuple[int | None, str] | None) -> None:
    found = refused(content)
    assert len(found) == 1
    if problem is not None:
        assert found[0] == problem


def test_too_many_steps_and_loops_that_multiply() -> None:
    plain = "name: t\nsteps:\n" + "  - c: x\n" * (MAX_STEPS + 1)
    assert refused(plain) == [
        (MAX_STEPS + 3, f"the suite has more than {MAX_STEPS} steps; split it into several files")
    ]
    forty = ",".join(str(i) for i in range(40))
    nested = f"""\
name: t
data: {{n: [{forty}]}}
steps:
  - loop:
      over: $n
      do:
        - loop: {{over: $n, do: [{{c: x}}]}}
"""
    assert refused(nested) == [(7, f"the suite has more than {MAX_STEPS} steps; split it into several files")]
