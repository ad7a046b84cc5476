"""What bootstrap sends where no emulator answers (Firestore's admin API, IAM) and what the Cloud Tasks
emulator ignores (a queue's retry settings): the exact requests, built from what the project holds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.cloud.firestore_admin_v1.types import Field, Index
from google.cloud.firestore_admin_v1.types import firestore_admin as admin
from google.cloud.tasks_v2 import Queue, RetryConfig, UpdateQueueRequest
from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.protobuf import duration_pb2, field_mask_pb2

from virtuoso_api.config import Settings
from virtuoso_api.errors import InvalidInput
from virtuoso_api.gcp.bootstrap.firestore import IndexSpec, index_requests, ttl_requests
from virtuoso_api.gcp.bootstrap.pubsub import iam_plan, service_agent, with_binding
from virtuoso_api.gcp.bootstrap.tasks import retry_update, wanted_retry
from virtuoso_api.infra.tasks import TaskRetry
from virtuoso_api.services import Services

ROOT = Path(__file__).resolve().parents[2]
DB = "projects/demo/databases/(default)"
SPEC = IndexSpec.read(ROOT / "firestore.indexes.json")


def reported(request: admin.CreateIndexRequest, state: int = Index.State.READY) -> Index:
    """The index as Firestore lists it once made: named, with ``__name__`` appended."""
    index = Index()
    index._pb.CopyFrom(request.index._pb)
    index.name = f"{request.parent}/indexes/CICAgJim14AK{len(request.index.fields)}"
    index.state = state  # type: ignore[assignment]
    index.fields.append(Index.IndexField(field_path="__name__", order=Index.IndexField.Order.DESCENDING))
    return index


def test_an_empty_database_gets_one_create_per_index_of_the_file_exactly() -> None:
    made = index_requests(DB, SPEC, [])
    assert len(made) == len(json.loads((ROOT / "firestore.indexes.json").read_text())["indexes"])
    assert made[0] == admin.CreateIndexRequest(
        parent=f"{DB}/collectionGroups/command_history",
        index=Index(
            query_scope=Index.QueryScope.COLLECTION,
            fields=[
                Index.IndexField(field_path="user_id", order=Index.IndexField.Order.ASCENDING),
                Index.IndexField(field_path="timestamp", order=Index.IndexField.Order.DESCENDING),
            ],
        ),
    )


def test_indexes_that_exist_or_are_being_built_are_not_asked_for_again() -> None:
    first = index_requests(DB, SPEC, [])
    held = [reported(r) for r in first[:-1]] + [reported(first[-1], Index.State.CREATING)]
    assert index_requests(DB, SPEC, held) == []
    assert index_requests(DB, SPEC, held[1:]) == [first[0]]


def test_a_ttl_policy_is_asked_for_each_expiring_collection_without_one() -> None:
    made = ttl_requests(DB, SPEC, {})
    name = f"{DB}/collectionGroups/sessions/fields/expires_at"
    assert made[0] == admin.UpdateFieldRequest(
        field=Field(name=name, ttl_config=Field.TtlConfig()),
        update_mask=field_mask_pb2.FieldMask(paths=["ttl_config"]),
    )
    active = {
        r.field.name: Field(name=r.field.name, ttl_config={"state": Field.TtlConfig.State.ACTIVE})
        for r in made
    }
    assert ttl_requests(DB, SPEC, active) == []
    active[name] = Field(name=name)  # the field exists, with no TTL policy
    assert ttl_requests(DB, SPEC, active) == [made[0]]


async def test_the_ttl_policies_cover_every_collection_the_domains_declare_expiring(tmp_path: Path) -> None:
    async with Services.running(Settings(data_dir=tmp_path)) as services:
        expiring = set(services.expiring_collections())
    assert {group for group, field in SPEC.ttl_fields if field == "expires_at"} == expiring


def test_an_unreadable_index_file_is_refused_naming_the_option(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InvalidInput, match="--indexes"):
        IndexSpec.read(tmp_path / "bad.json")


def test_dead_lettering_binds_the_pubsub_service_agent_on_each_consumer() -> None:
    member = "serviceAccount:service-123456789@gcp-sa-pubsub.iam.gserviceaccount.com"
    assert service_agent("123456789") == member
    assert iam_plan("demo", "123456789") == [
        ("projects/demo/topics/webhooks-dead", "roles/pubsub.publisher", member),
        ("projects/demo/subscriptions/webhooks", "roles/pubsub.subscriber", member),
    ]


def test_a_binding_is_added_to_the_policy_with_its_etag_and_only_once() -> None:
    member = service_agent("42")
    other = "user:ana@example.com"
    before = policy_pb2.Policy(
        etag=b"v7", bindings=[policy_pb2.Binding(role="roles/pubsub.publisher", members=[other])]
    )
    after = with_binding(before, "roles/pubsub.publisher", member)
    assert after is not None
    request = iam_policy_pb2.SetIamPolicyRequest(resource="projects/demo/topics/webhooks-dead", policy=after)
    assert request == iam_policy_pb2.SetIamPolicyRequest(
        resource="projects/demo/topics/webhooks-dead",
        policy=policy_pb2.Policy(
            etag=b"v7", bindings=[policy_pb2.Binding(role="roles/pubsub.publisher", members=[other, member])]
        ),
    )
    assert with_binding(after, "roles/pubsub.publisher", member) is None
    fresh = with_binding(policy_pb2.Policy(etag=b"v1"), "roles/pubsub.subscriber", member)
    assert fresh == policy_pb2.Policy(
        etag=b"v1", bindings=[policy_pb2.Binding(role="roles/pubsub.subscriber", members=[member])]
    )


def test_a_queue_whose_retry_settings_differ_is_updated_to_the_services() -> None:
    retry = TaskRetry(max_attempts=5, min_backoff=10, max_backoff=300, max_doublings=3)
    wanted = wanted_retry(retry)
    name = "projects/demo/locations/europe-west1/queues/virtuoso-command"
    assert retry_update(Queue(name=name, retry_config=wanted), wanted) is None
    drifted = Queue(
        name=name, retry_config=RetryConfig(max_attempts=100, min_backoff=duration_pb2.Duration(seconds=1))
    )
    assert retry_update(drifted, wanted) == UpdateQueueRequest(
        queue=Queue(
            name=name,
            retry_config=RetryConfig(
                max_attempts=5,
                min_backoff=duration_pb2.Duration(seconds=10),
                max_backoff=duration_pb2.Duration(seconds=300),
                max_doublings=3,
            ),
        ),
        update_mask=field_mask_pb2.FieldMask(paths=["retry_config"]),
    )
