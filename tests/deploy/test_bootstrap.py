"""``virtuoso-api gcp bootstrap`` as a user runs it, against the emulators that serve each call: Cloud
Tasks (gcloud-tasks-emulator), Pub/Sub (Google's emulator) and Secret Manager (drongo). A dry run
makes nothing, the first run makes everything, the second changes nothing; each is checked by reading
the emulators back, not the printout alone."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.api_core import exceptions as api_exceptions

from tests.fixtures.drongo_emulator import Drongo
from tests.fixtures.pubsub_emulator import PubSubEmulator
from tests.fixtures.tasks_emulator import tasks_emulator
from tests.processes import CLI
from virtuoso_api.config import Settings
from virtuoso_api.infra.events.gcp_pubsub import make_clients
from virtuoso_api.infra.tasks.gcp_cloud_tasks import build_client
from virtuoso_api.kit.clock import SystemClock
from virtuoso_api.secrets import SecretType
from virtuoso_api.services.secrets import build_secrets_service

pytestmark = [pytest.mark.pubsub, pytest.mark.secret_manager, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
QUEUES = [f"virtuoso-{kind}{suffix}" for kind in ("command", "batch", "suite") for suffix in ("", "-high")]


@pytest.fixture
def tasks_host() -> Iterator[str]:
    with tasks_emulator(retries=0) as host:
        yield host


@pytest.fixture
def env(tmp_path: Path, tasks_host: str, pubsub_emulator: PubSubEmulator, drongo: Drongo) -> dict[str, str]:
    project = f"boot-{uuid.uuid4().hex[:10]}"
    return {
        "DATA_DIR": str(tmp_path / "data"),
        "GCP_PROJECT_ID": project,
        "GCP_LOCATION": "europe-west1",
        "ENVIRONMENT": "production",
        "USE_CLOUD_TASKS": "true",
        "CLOUD_TASKS_EMULATOR_HOST": tasks_host,
        "PUBLIC_BASE_URL": "https://virtuoso-api.example.run.app",
        "GCP_SERVICE_ACCOUNT_EMAIL": "virtuoso-tasks@demo.iam.gserviceaccount.com",
        "TASKS_MAX_ATTEMPTS": "7",
        "USE_PUBSUB": "true",
        "PUBSUB_EMULATOR_HOST": pubsub_emulator.host,
        "USE_SECRET_MANAGER": "true",
        "SECRET_MANAGER_EMULATOR_HOST": drongo.host,
        "USE_FIRESTORE": "true",
        "FIRESTORE_EMULATOR_HOST": "127.0.0.1:9",  # nothing is sent to Firestore on an emulator
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


async def queues(env: dict[str, str]) -> dict[str, int]:
    client = build_client(env["CLOUD_TASKS_EMULATOR_HOST"])
    try:
        parent = f"projects/{env['GCP_PROJECT_ID']}/locations/{env['GCP_LOCATION']}"
        pages = await client.list_queues(parent=parent)
        return {q.name.rsplit("/", 1)[-1]: q.retry_config.max_attempts async for q in pages}
    finally:
        await client.transport.close()  # type: ignore[no-untyped-call]


async def pubsub_state(env: dict[str, str]) -> dict[str, object]:
    publisher, subscriber = make_clients(env["PUBSUB_EMULATOR_HOST"])
    project = env["GCP_PROJECT_ID"]
    state: dict[str, object] = {}
    try:
        for topic in ("virtuoso-events", "webhooks-dead"):
            try:
                found = await publisher.get_topic(topic=f"projects/{project}/topics/{topic}")
            except api_exceptions.NotFound:
                continue
            state[f"topic {topic}"] = found.message_retention_duration.total_seconds()
        for name in ("webhooks", "webhooks-dead"):
            try:
                found = await subscriber.get_subscription(
                    subscription=f"projects/{project}/subscriptions/{name}"
                )
            except api_exceptions.NotFound:
                continue
            state[f"subscription {name}"] = (
                found.topic.rsplit("/", 1)[-1],
                found.message_retention_duration.total_seconds(),
                found.dead_letter_policy.dead_letter_topic.rsplit("/", 1)[-1],
                found.dead_letter_policy.max_delivery_attempts,
            )
    finally:
        await publisher.transport.close()  # type: ignore[no-untyped-call]
        await subscriber.transport.close()  # type: ignore[no-untyped-call]
    return state


async def sealing_key_versions(env: dict[str, str]) -> int:
    settings = Settings(
        use_secret_manager=True,
        gcp_project_id=env["GCP_PROJECT_ID"],
        secret_manager_emulator_host=env["SECRET_MANAGER_EMULATOR_HOST"],
        environment=env["ENVIRONMENT"],  # type: ignore[arg-type]
        data_dir=Path(env["DATA_DIR"]),
    )
    async with build_secrets_service(settings, clock=SystemClock()) as secrets:
        ref = secrets.ref(SecretType.WEBHOOK_SEALING_KEY)
        if await secrets.find(ref) is None:
            return 0
        return len(await secrets.versions(ref))


WEEK = 7 * 86400.0


async def test_a_dry_run_makes_nothing_the_first_run_everything_and_the_second_nothing(
    env: dict[str, str],
) -> None:
    dry = bootstrap(env, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert (
        len(lines(dry.stdout, "would create")) == 6 + 4 + 1
    )  # queues; two topics, two subscriptions; a secret
    assert await queues(env) == {}
    assert await pubsub_state(env) == {}
    assert await sealing_key_versions(env) == 0

    first = bootstrap(env)
    assert first.returncode == 0, first.stderr
    created = lines(first.stdout, "created")
    assert len(created) == 11, first.stdout
    assert await queues(env) == dict.fromkeys(QUEUES, 7)
    assert await pubsub_state(env) == {
        "topic virtuoso-events": WEEK,
        "topic webhooks-dead": WEEK,
        "subscription webhooks-dead": ("webhooks-dead", WEEK, "", 0),
        "subscription webhooks": ("virtuoso-events", WEEK, "webhooks-dead", 5),
    }
    assert await sealing_key_versions(env) == 1
    # What bootstrap cannot do on emulators, or without the operator, is said, not faked.
    manual = lines(first.stdout, "to do")
    assert any("production-virtuoso-api-key" in line and "secrets set" in line for line in manual)
    assert any("indexes" in line and "the emulator has none" in line for line in manual)
    assert any("--project-number" in line for line in manual)

    second = bootstrap(env)
    assert second.returncode == 0, second.stderr
    assert lines(second.stdout, "created") == lines(second.stdout, "updated") == []
    assert len(lines(second.stdout, "exists")) == 11
    assert second.stdout.splitlines()[-1] == "changed 0, unchanged 11, to do by hand 3"
    assert await sealing_key_versions(env) == 1


async def test_retention_changed_by_hand_is_set_back_once(env: dict[str, str]) -> None:
    from google.protobuf import duration_pb2, field_mask_pb2
    from google.pubsub_v1.types import Topic

    assert bootstrap(env).returncode == 0
    publisher, subscriber = make_clients(env["PUBSUB_EMULATOR_HOST"])
    topic = f"projects/{env['GCP_PROJECT_ID']}/topics/virtuoso-events"
    try:
        await publisher.update_topic(
            request={
                "topic": Topic(name=topic, message_retention_duration=duration_pb2.Duration(seconds=3600)),
                "update_mask": field_mask_pb2.FieldMask(paths=["message_retention_duration"]),
            }
        )
    finally:
        await publisher.transport.close()  # type: ignore[no-untyped-call]
        await subscriber.transport.close()  # type: ignore[no-untyped-call]
    again = bootstrap(env)
    assert lines(again.stdout, "updated") == [f"updated      topic {topic}: retention 7 days"]
    assert (await pubsub_state(env))["topic virtuoso-events"] == WEEK
    assert lines(bootstrap(env).stdout, "updated") == []


def test_with_no_flag_on_there_is_nothing_to_do(tmp_path: Path) -> None:
    result = bootstrap({"DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr == "error: nothing to do: no USE_* flag is on (see deploy/README.md)\n"


def test_a_project_id_for_a_project_number_is_refused(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "USE_PUBSUB": "true", "GCP_PROJECT_ID": "demo"}
    result = bootstrap(env, "--project-number", "my-project")
    assert result.returncode == 2
    assert "--project-number: must be the project's number" in result.stderr


async def test_environment_names_the_secrets_and_bindings_are_named_for_the_project_number(
    env: dict[str, str],
) -> None:
    dry = bootstrap(env, "--dry-run", "--environment", "staging", "--project-number", "123456789")
    assert dry.returncode == 0, dry.stderr
    assert "would create secret staging-webhook-sealing-key: a generated key" in dry.stdout.splitlines()
    agent = "serviceAccount:service-123456789@gcp-sa-pubsub.iam.gserviceaccount.com"
    project = env["GCP_PROJECT_ID"]
    on_emulator = "the emulator has no IAM; sent on Google"
    dead_topic = f"projects/{project}/topics/webhooks-dead"
    subscription = f"projects/{project}/subscriptions/webhooks"
    assert [line for line in lines(dry.stdout, "to do") if "iam binding" in line] == [
        f"to do        iam binding roles/pubsub.publisher for {agent} on {dead_topic}: {on_emulator}",
        f"to do        iam binding roles/pubsub.subscriber for {agent} on {subscription}: {on_emulator}",
    ]
    assert await sealing_key_versions(env) == 0


def test_an_unknown_environment_is_refused_naming_it(tmp_path: Path) -> None:
    env = {"DATA_DIR": str(tmp_path), "USE_PUBSUB": "true", "GCP_PROJECT_ID": "demo"}
    result = bootstrap(env, "--environment", "moon")
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid configuration: ENVIRONMENT")
