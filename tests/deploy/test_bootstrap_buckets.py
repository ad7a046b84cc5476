"""``virtuoso-api gcp bootstrap`` with ``USE_CLOUD_STORAGE``, as a user runs it, against
gcp-storage-emulator: the four buckets, their access settings and lifecycle rules, read back from the
emulator. The emulator drops a new bucket's settings (it keeps a patch's), so what Google is sent to
create a bucket is checked as the exact request."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.storage_emulator import StorageEmulator
from tests.processes import CLI
from virtuoso_api.config import Settings
from virtuoso_api.gcp.bootstrap.buckets import apply, wanted_fields
from virtuoso_api.infra.blobs.gcp_storage import make_client, rule_to_gcs
from virtuoso_api.storage.buckets import BucketKind
from virtuoso_api.storage.lifecycle import rules_from_settings

pytestmark = [pytest.mark.cloud_storage, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
NAMES = ("test-results", "command-logs", "static-assets", "archive")
ACCESS = {"uniformBucketLevelAccess": {"enabled": True}, "publicAccessPrevention": "enforced"}
RESULTS_RULES = [
    {"action": {"type": "SetStorageClass", "storageClass": "COLDLINE"}, "condition": {"age": 10}},
    {"action": {"type": "Delete"}, "condition": {"age": 100}},
]
LOGS_RULES = [{"action": {"type": "Delete"}, "condition": {"age": 90}}]


@pytest.fixture
def env(tmp_path: Path, storage_emulator: StorageEmulator, storage_prefix: str) -> dict[str, str]:
    return {
        "DATA_DIR": str(tmp_path / "data"),
        "GCP_PROJECT_ID": "demo-buckets",
        "USE_CLOUD_STORAGE": "true",
        "STORAGE_EMULATOR_HOST": storage_emulator.host,
        "STORAGE_BUCKET_PREFIX": storage_prefix,
        "STORAGE_RESULTS_COLDER_CLASS": "COLDLINE",
        "STORAGE_RESULTS_COLDER_AFTER_DAYS": "10",
        "STORAGE_RESULTS_DELETE_AFTER_DAYS": "100",
    }


def bootstrap(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "gcp", "bootstrap", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def lines(output: str, verb: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(verb)]


def state(env: dict[str, str]) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each of the service's buckets that exists: its access settings and lifecycle rules."""
    client = make_client(project=env["GCP_PROJECT_ID"], emulator_host=env["STORAGE_EMULATOR_HOST"])
    found = {}
    try:
        for name in NAMES:
            bucket = client.lookup_bucket(env["STORAGE_BUCKET_PREFIX"] + name)
            if bucket is None:
                continue
            access = dict(bucket.iam_configuration)
            access.pop("bucketPolicyOnly", None)  # the old name of uniform access, which it mirrors
            found[name] = (access, [dict(rule) for rule in bucket.lifecycle_rules])
    finally:
        client.close()
    return found


WANTED = {
    "test-results": (ACCESS, RESULTS_RULES),
    "command-logs": (ACCESS, LOGS_RULES),
    "static-assets": (ACCESS, []),
    "archive": (ACCESS, []),
}


def test_a_dry_run_makes_nothing_the_first_run_the_four_buckets_and_the_second_nothing(
    env: dict[str, str],
) -> None:
    dry = bootstrap(env, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    prefix = env["STORAGE_BUCKET_PREFIX"]
    assert lines(dry.stdout, "would create") == [
        f"would create bucket {prefix}test-results: uniform access, public access prevented, "
        "lifecycle: COLDLINE after 10 days, deleted after 100 days",
        f"would create bucket {prefix}command-logs: uniform access, public access prevented, "
        "lifecycle: deleted after 90 days",
        f"would create bucket {prefix}static-assets: uniform access, public access prevented, "
        "lifecycle: none (kept)",
        f"would create bucket {prefix}archive: uniform access, public access prevented, "
        "lifecycle: none (kept)",
    ]
    assert state(env) == {}

    first = bootstrap(env)
    assert first.returncode == 0, first.stderr
    assert len(lines(first.stdout, "created")) == 4, first.stdout
    assert state(env) == WANTED

    second = bootstrap(env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1] == "changed 0, unchanged 4, to do by hand 0"
    assert state(env) == WANTED


def test_access_and_lifecycle_changed_by_hand_are_set_back_once(env: dict[str, str]) -> None:
    assert bootstrap(env).returncode == 0
    client = make_client(project=env["GCP_PROJECT_ID"], emulator_host=env["STORAGE_EMULATOR_HOST"])
    prefix = env["STORAGE_BUCKET_PREFIX"]
    try:
        results = client.get_bucket(prefix + "test-results")
        results.lifecycle_rules = [{"action": {"type": "Delete"}, "condition": {"age": 1}}]
        results.patch()
        archive = client.get_bucket(prefix + "archive")
        archive.iam_configuration.public_access_prevention = "inherited"
        archive.lifecycle_rules = [{"action": {"type": "Delete"}, "condition": {"isLive": False}}]
        archive.patch()
    finally:
        client.close()
    assert state(env) != WANTED

    again = bootstrap(env)
    assert again.returncode == 0, again.stderr
    assert [line.split(":")[0] for line in lines(again.stdout, "updated")] == [
        f"updated      bucket {prefix}test-results",
        f"updated      bucket {prefix}archive",
    ]
    assert state(env) == WANTED
    assert lines(bootstrap(env).stdout, "updated") == []


def test_changed_settings_change_the_rules_and_zero_removes_one(env: dict[str, str]) -> None:
    assert bootstrap(env).returncode == 0
    changed = bootstrap(
        env | {"STORAGE_LOGS_DELETE_AFTER_DAYS": "0", "STORAGE_RESULTS_DELETE_AFTER_DAYS": "200"}
    )
    assert changed.returncode == 0, changed.stderr
    assert len(lines(changed.stdout, "updated")) == 2
    held = state(env)
    assert held["command-logs"] == (ACCESS, [])
    assert held["test-results"][1][1] == {"action": {"type": "Delete"}, "condition": {"age": 200}}


def test_a_new_bucket_is_created_with_its_settings_in_the_one_request(tmp_path: Path) -> None:
    """What Google receives to create the results bucket: ``create_bucket`` sends the bucket's name
    and the properties the library's setters marked changed."""
    from google.cloud.storage import Client

    settings = Settings(_env_file=None, data_dir=tmp_path, storage_results_colder_after_days=10)
    rules = rules_from_settings(settings)[BucketKind.RESULTS]
    bucket = Client.create_anonymous_client().bucket("production-test-results")
    apply(bucket, rules, ["access", "lifecycle"])
    sent = {key: bucket._properties[key] for key in bucket._changes}
    assert sent == wanted_fields(rules)
    assert wanted_fields(rules) == {
        "iamConfiguration": ACCESS,
        "lifecycle": {
            "rule": [
                {"action": {"type": "SetStorageClass", "storageClass": "NEARLINE"}, "condition": {"age": 10}},
                {"action": {"type": "Delete"}, "condition": {"age": 365}},
            ]
        },
    }
    assert [rule_to_gcs(rule) for rule in rules] == wanted_fields(rules)["lifecycle"]["rule"]
