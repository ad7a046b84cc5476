"""The least-privilege table (deploy/iam.json) against the code: every Google method the adapters and
bootstrap call is there for a role of some identity, every method a role claims is really called,
and deploy/grant-iam.sh grants exactly the service accounts' roles."""

from __future__ import annotations

import ast
import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from virtuoso_api.config import Settings
from virtuoso_api.storage.buckets import Buckets

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "virtuoso_api"
SPEC = json.loads((ROOT / "deploy" / "iam.json").read_text())
CLIENTS = {"_client", "_publisher", "_subscriber", "_iam", "admin"}
#: Attributes of Google's clients that are no remote call: path builders, local batch and reference
#: objects (their commit, get, set... are the calls), and closing the channel.
LOCAL = {"transport", "close", "queue_path", "common_location_path", "bucket"} | {
    "collection",
    "batch",
    "write_option",
    "document",
}


def google_modules() -> dict[str, list[Path]]:
    return {
        "runtime": sorted(
            [
                *SRC.glob("infra/*/gcp*.py"),
                *SRC.glob("infra/documents/firestore*.py"),
                *SRC.glob("telemetry/gcp*.py"),
            ]
        ),
        "bootstrap": sorted(SRC.glob("gcp/bootstrap/*.py")),
    }


def called_methods(path: Path) -> set[str]:
    """Google RPCs a module makes: a method of a client attribute (``self._client.create_task``), and
    any call given ``retry=`` (how every call of ours to a Google client is spelled: the resilience
    kit retries, never the client)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute):
            owner = node.value
            name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if name in CLIENTS:
                found.add(node.attr)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and any(k.arg == "retry" for k in node.keywords)
        ):
            found.add(node.func.attr)
    return {name for name in found - LOCAL if not name.startswith("_") and name != "to_thread"}


def claimed(*identities: str) -> set[str]:
    return {
        call
        for name in identities or tuple(SPEC["identities"])
        for grant in SPEC["identities"][name]["roles"]
        for call in grant["calls"]
    }


def test_every_google_call_is_covered_by_a_role_and_every_claimed_call_is_made() -> None:
    called = {name for paths in google_modules().values() for p in paths for name in called_methods(p)}
    assert called, "the scan found no Google calls at all"
    assert called == claimed()


def test_the_service_account_covers_every_call_the_runtime_adapters_make_but_bootstraps() -> None:
    runtime = {name for p in google_modules()["runtime"] for name in called_methods(p)}
    # Made only by the operator (CLI, bootstrap): creating and deleting secrets, creating queues,
    # creating buckets and setting their lifecycle (a serving process does at start only what its
    # identity may: on Cloud Run bootstrap made them, and it finds their rules already set).
    operator_only = {"create_secret", "delete_secret", "create_queue", "create_bucket", "patch"}
    assert runtime - operator_only <= claimed("virtuoso-api")
    assert not operator_only & claimed("virtuoso-api")
    bootstrap = {name for p in google_modules()["bootstrap"] for name in called_methods(p)}
    assert bootstrap <= claimed("operator")


def test_every_role_says_why_and_a_role_without_a_call_says_what_needs_it() -> None:
    for identity in SPEC["identities"].values():
        for grant in identity["roles"]:
            assert grant["role"].startswith("roles/")
            assert grant["why"].strip()
            assert grant["calls"] or grant["needed_by"].strip()
    roles = [g["role"] for i in SPEC["identities"].values() for g in i["roles"]]
    assert not {"roles/owner", "roles/editor", "roles/viewer"} & set(roles)  # never a basic role


def granted_lines(env: dict[str, str] | None = None) -> list[str]:
    return subprocess.run(
        ["bash", str(ROOT / "deploy" / "grant-iam.sh"), "demo", "europe-west1", "--print"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env={"PATH": os.environ["PATH"], **(env or {})},
    ).stdout.splitlines()


def test_the_script_grants_exactly_the_service_accounts_roles() -> None:
    printed = granted_lines()
    granted = set()
    for line in printed:
        words = shlex.split(line)
        if "add-iam-policy-binding" in words:
            member = next(w for w in words if w.startswith("--member="))
            role = next(w for w in words if w.startswith("--role="))
            granted.add((member.split(":", 1)[1].split("@")[0], role.removeprefix("--role=")))
    wanted = {
        (name, grant["role"])
        for name, identity in SPEC["identities"].items()
        if identity["kind"] == "service account"
        for grant in identity["roles"]
    }
    assert granted == wanted
    per_grant = {"buckets": len(SPEC["buckets"])}  # a bucket-scoped role: once on each bucket
    assert len([line for line in printed if "add-iam-policy-binding" in line]) == sum(
        per_grant.get(grant["on"], 1)
        for identity in SPEC["identities"].values()
        if identity["kind"] == "service account"
        for grant in identity["roles"]
    )


@pytest.mark.parametrize(
    ("env", "settings"),
    [
        ({}, {"environment": "production"}),
        ({"ENVIRONMENT": "staging"}, {"environment": "staging"}),
        (
            {"STORAGE_BUCKET_PREFIX": "acme-", "STORAGE_RESULTS_BUCKET": "reports"},
            {"storage_bucket_prefix": "acme-", "storage_results_bucket": "reports"},
        ),
    ],
)
def test_bucket_roles_are_granted_on_exactly_the_buckets_the_service_names(
    env: dict[str, str], settings: dict[str, str], tmp_path: Path
) -> None:
    names = Buckets.from_settings(Settings(_env_file=None, data_dir=tmp_path, **settings)).names  # type: ignore[arg-type]
    bucket_roles = [
        grant["role"] for grant in SPEC["identities"]["virtuoso-api"]["roles"] if grant["on"] == "buckets"
    ]
    assert {"roles/storage.objectAdmin", "roles/storage.legacyBucketReader"} == set(bucket_roles)
    found = {
        (words[4].removeprefix("gs://"), next(w for w in words if w.startswith("--role=")).split("=")[1])
        for words in map(shlex.split, granted_lines(env))
        if words[:4] == ["gcloud", "storage", "buckets", "add-iam-policy-binding"]
    }
    assert found == {(bucket, role) for bucket in names.values() for role in bucket_roles}


def test_the_walkthrough_names_every_role_it_asks_for() -> None:
    walkthrough = (ROOT / "deploy" / "README.md").read_text()
    for identity in SPEC["identities"].values():
        for grant in identity["roles"]:
            assert f"`{grant['role']}`" in walkthrough, grant["role"]
