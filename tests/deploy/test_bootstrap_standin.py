"""Bootstrap's Firestore and IAM steps driven end to end over a real gRPC connection, against a
stand-in that answers Firestore's admin API and IAM from state the test holds (no emulator serves
either): what it reads, the exact requests it sends, and that a second run sends none."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc  # type: ignore[import-untyped]
import pytest
from google.cloud.firestore_admin_v1.services.firestore_admin import FirestoreAdminAsyncClient
from google.cloud.firestore_admin_v1.services.firestore_admin.transports import (
    FirestoreAdminGrpcAsyncIOTransport,
)
from google.cloud.firestore_admin_v1.types import Field, Index
from google.cloud.firestore_admin_v1.types import firestore_admin as admin
from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.longrunning import operations_pb2
from google.pubsub_v1.services.publisher.async_client import PublisherAsyncClient
from google.pubsub_v1.services.publisher.transports.grpc_asyncio import PublisherGrpcAsyncIOTransport

from tests.fixtures.grpc_standin import Abort, Method, StandIn, grpc_standin, proto_plus, protobuf
from tests.fixtures.pubsub_emulator import PubSubEmulator
from virtuoso_api.config import Settings
from virtuoso_api.gcp.bootstrap import Action
from virtuoso_api.gcp.bootstrap.firestore import FirestoreProvisioner, IndexSpec, index_requests, ttl_requests
from virtuoso_api.gcp.bootstrap.pubsub import PubSubProvisioner, service_agent

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "demo-standin"
DB = f"projects/{PROJECT}/databases/(default)"
SPEC = IndexSpec.read(ROOT / "firestore.indexes.json")


class FirestoreAdminState:
    """Indexes and fields as Firestore would hold them; creates and updates apply at once."""

    def __init__(self) -> None:
        self.indexes: list[Index] = []
        self.fields: dict[str, Field] = {}

    def list_indexes(self, request: admin.ListIndexesRequest) -> admin.ListIndexesResponse:
        assert request.parent == f"{DB}/collectionGroups/-"
        return admin.ListIndexesResponse(indexes=self.indexes)

    def create_index(self, request: admin.CreateIndexRequest) -> operations_pb2.Operation:
        index = Index.deserialize(Index.serialize(request.index))
        index.name = f"{request.parent}/indexes/i{len(self.indexes)}"
        index.state = Index.State.CREATING
        index.fields.append(Index.IndexField(field_path="__name__", order=Index.IndexField.Order.ASCENDING))
        self.indexes.append(index)
        return operations_pb2.Operation(name=f"{DB}/operations/create-{len(self.indexes)}")

    def get_field(self, request: admin.GetFieldRequest) -> Field:
        if request.name not in self.fields:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"no field {request.name}")
        return self.fields[request.name]

    def update_field(self, request: admin.UpdateFieldRequest) -> operations_pb2.Operation:
        self.fields[request.field.name] = Field(
            name=request.field.name, ttl_config={"state": Field.TtlConfig.State.CREATING}
        )
        return operations_pb2.Operation(name=f"{DB}/operations/ttl-{len(self.fields)}")

    def methods(self) -> dict[str, dict[str, Any]]:
        def method(request_type: Any, handle: Any, response: tuple[Any, Any]) -> Any:
            return (proto_plus(request_type)[0], handle, response[1])

        operation = protobuf(operations_pb2.Operation)
        return {
            "google.firestore.admin.v1.FirestoreAdmin": {
                "ListIndexes": method(
                    admin.ListIndexesRequest, self.list_indexes, proto_plus(admin.ListIndexesResponse)
                ),
                "CreateIndex": method(admin.CreateIndexRequest, self.create_index, operation),
                "GetField": method(admin.GetFieldRequest, self.get_field, proto_plus(Field)),
                "UpdateField": method(admin.UpdateFieldRequest, self.update_field, operation),
            }
        }


@pytest.fixture
async def firestore_admin() -> AsyncIterator[tuple[FirestoreAdminState, StandIn]]:
    state = FirestoreAdminState()
    async with grpc_standin(state.methods()) as standin:
        yield state, standin


def firestore_provisioner(standin: StandIn) -> FirestoreProvisioner:
    settings = Settings(use_firestore=True, gcp_project_id=PROJECT)
    client = FirestoreAdminAsyncClient(
        transport=FirestoreAdminGrpcAsyncIOTransport(channel=standin.channel())
    )
    return FirestoreProvisioner(settings, indexes=ROOT / "firestore.indexes.json", client=client)


async def run(provisioner: Any, *, dry_run: bool) -> list[Any]:
    try:
        changes: list[Any] = await provisioner.provision(dry_run=dry_run)
        return changes
    finally:
        await provisioner.aclose()


async def test_firestore_indexes_and_ttl_policies_are_made_once(
    firestore_admin: tuple[FirestoreAdminState, StandIn],
) -> None:
    state, standin = firestore_admin
    first_entry = index_requests(DB, SPEC, [])[0]
    state.create_index(first_entry)  # one index exists already, one TTL policy too
    sessions = f"{DB}/collectionGroups/sessions/fields/expires_at"
    state.fields[sessions] = Field(name=sessions, ttl_config={"state": Field.TtlConfig.State.ACTIVE})
    standin.calls.clear()

    dry = await run(firestore_provisioner(standin), dry_run=True)
    assert standin.sent("CreateIndex") == standin.sent("UpdateField") == []
    assert [c.action for c in dry].count(Action.CREATE) == len(SPEC.indexes) - 1 + len(SPEC.ttl_fields) - 1

    wanted_indexes = index_requests(DB, SPEC, list(state.indexes))
    wanted_ttl = ttl_requests(DB, SPEC, dict(state.fields))
    made = await run(firestore_provisioner(standin), dry_run=False)
    assert standin.sent("CreateIndex") == wanted_indexes
    assert standin.sent("UpdateField") == wanted_ttl
    assert len(wanted_indexes) == len(SPEC.indexes) - 1
    assert [c.action for c in made] == [c.action for c in dry]

    standin.calls.clear()
    again = await run(firestore_provisioner(standin), dry_run=False)
    assert {name for name, _ in standin.calls} == {"ListIndexes", "GetField"}
    assert {c.action for c in again} == {Action.KEEP}


class IamState:
    def __init__(self) -> None:
        self.policies: dict[str, policy_pb2.Policy] = {}

    def get(self, request: iam_policy_pb2.GetIamPolicyRequest) -> policy_pb2.Policy:
        return self.policies.get(request.resource, policy_pb2.Policy(etag=b"e0"))

    def set(self, request: iam_policy_pb2.SetIamPolicyRequest) -> policy_pb2.Policy:
        stored = policy_pb2.Policy()
        stored.CopyFrom(request.policy)
        stored.etag = b"e" + str(len(self.policies) + 1).encode()
        self.policies[request.resource] = stored
        return stored


@pytest.mark.pubsub
async def test_the_dead_letter_bindings_are_set_once_with_the_policy_read(
    pubsub_emulator: PubSubEmulator,
) -> None:
    iam = IamState()
    get_parse, _ = protobuf(iam_policy_pb2.GetIamPolicyRequest)
    set_parse, _ = protobuf(iam_policy_pb2.SetIamPolicyRequest)
    _, policy_out = protobuf(policy_pb2.Policy)
    services: dict[str, dict[str, Method]] = {
        "google.iam.v1.IAMPolicy": {
            "GetIamPolicy": (get_parse, iam.get, policy_out),
            "SetIamPolicy": (set_parse, iam.set, policy_out),
        }
    }
    project = f"iam-{uuid.uuid4().hex[:10]}"
    settings = Settings(use_pubsub=True, gcp_project_id=project, pubsub_emulator_host=pubsub_emulator.host)
    agent = service_agent("42")
    async with grpc_standin(services) as standin:

        def provisioner() -> PubSubProvisioner:
            channel = standin.channel()
            client = PublisherAsyncClient(transport=PublisherGrpcAsyncIOTransport(channel=channel))
            return PubSubProvisioner(settings, project_number="42", iam=client)

        first = await run(provisioner(), dry_run=False)
        assert [(r.resource, list(r.policy.bindings)) for r in standin.sent("SetIamPolicy")] == [
            (
                f"projects/{project}/topics/webhooks-dead",
                [policy_pb2.Binding(role="roles/pubsub.publisher", members=[agent])],
            ),
            (
                f"projects/{project}/subscriptions/webhooks",
                [policy_pb2.Binding(role="roles/pubsub.subscriber", members=[agent])],
            ),
        ]
        assert all(r.policy.etag == b"e0" for r in standin.sent("SetIamPolicy"))  # the etag read
        assert [c.action for c in first if c.kind == "iam binding"] == [Action.CREATE, Action.CREATE]
        standin.calls.clear()
        second = await run(provisioner(), dry_run=False)
        assert standin.sent("SetIamPolicy") == []
        assert {c.action for c in second} == {Action.KEEP}
