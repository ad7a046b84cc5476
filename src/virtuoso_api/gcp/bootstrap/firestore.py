"""Firestore: the composite indexes and the TTL policies of ``firestore.indexes.json`` (the file the
Firebase CLI deploys too). Index builds take minutes: bootstrap starts them and does not wait; a
rerun reports an index being built as existing.

No emulator serves Firestore's admin API, so what bootstrap sends is built by pure functions
(:func:`index_requests`, :func:`ttl_requests`) from what the project holds; the tests check them
request by request. On the emulator nothing is sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.api_core import exceptions as api_exceptions
from google.cloud.firestore_admin_v1.types import Field, Index
from google.cloud.firestore_admin_v1.types import firestore_admin as requests
from google.protobuf import field_mask_pb2

from virtuoso_api.config import Settings
from virtuoso_api.errors import InvalidInput
from virtuoso_api.gcp.bootstrap.plan import Action, Change, call
from virtuoso_api.kit.clock import SystemClock
from virtuoso_api.resilience import RemoteCall

CAPABILITY = "Firestore"
TTL_MASK = field_mask_pb2.FieldMask(paths=["ttl_config"])


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """What the service needs of Firestore: the file's composite indexes and TTL fields."""

    indexes: list[dict[str, Any]]
    ttl_fields: list[tuple[str, str]]  # (collection group, field)

    @classmethod
    def read(cls, path: Path) -> IndexSpec:
        try:
            document = json.loads(path.read_text())
        except OSError as exc:
            raise InvalidInput("--indexes", f"cannot read {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise InvalidInput("--indexes", f"{path} is not JSON: {exc}") from exc
        ttl = [
            (o["collectionGroup"], o["fieldPath"]) for o in document.get("fieldOverrides", []) if o.get("ttl")
        ]
        return cls(list(document.get("indexes", [])), ttl)


def _key(group: str, scope: str, fields: list[tuple[str, str]]) -> tuple[Any, ...]:
    return (group, scope, tuple(fields))


def _spec_key(entry: dict[str, Any]) -> tuple[Any, ...]:
    fields = [(f["fieldPath"], f.get("order") or f.get("arrayConfig", "")) for f in entry["fields"]]
    return _key(entry["collectionGroup"], entry.get("queryScope", "COLLECTION"), fields)


def _index_key(index: Index) -> tuple[Any, ...]:
    group = index.name.split("/collectionGroups/", 1)[1].split("/", 1)[0]
    fields = [
        (f.field_path, f.order.name if f.order else f.array_config.name)
        for f in index.fields
        if f.field_path != "__name__"  # Firestore appends the document name to every index it reports
    ]
    return _key(group, index.query_scope.name, fields)


def _as_index(entry: dict[str, Any]) -> Index:
    fields = []
    for field in entry["fields"]:
        if "order" in field:
            fields.append(
                Index.IndexField(
                    field_path=field["fieldPath"], order=getattr(Index.IndexField.Order, field["order"])
                )
            )
        else:
            config = getattr(Index.IndexField.ArrayConfig, field["arrayConfig"])
            fields.append(Index.IndexField(field_path=field["fieldPath"], array_config=config))
    return Index(query_scope=getattr(Index.QueryScope, entry.get("queryScope", "COLLECTION")), fields=fields)


def index_requests(
    database: str, spec: IndexSpec, existing: list[Index]
) -> list[requests.CreateIndexRequest]:
    """One request per index of the file that the database lacks (an index being built counts)."""
    have = {_index_key(index) for index in existing}
    return [
        requests.CreateIndexRequest(
            parent=f"{database}/collectionGroups/{entry['collectionGroup']}", index=_as_index(entry)
        )
        for entry in spec.indexes
        if _spec_key(entry) not in have
    ]


def ttl_requests(
    database: str, spec: IndexSpec, fields: Mapping[str, Field | None]
) -> list[requests.UpdateFieldRequest]:
    """One request per TTL field whose policy is neither active nor being made (``fields``: each
    field's name to what Firestore holds for it, None when it holds nothing)."""
    made = []
    for group, field in spec.ttl_fields:
        name = f"{database}/collectionGroups/{group}/fields/{field}"
        held = fields.get(name)
        states = (Field.TtlConfig.State.ACTIVE, Field.TtlConfig.State.CREATING)
        if held is not None and "ttl_config" in held and held.ttl_config.state in states:
            continue
        made.append(
            requests.UpdateFieldRequest(
                field=Field(name=name, ttl_config=Field.TtlConfig()), update_mask=TTL_MASK
            )
        )
    return made


class FirestoreProvisioner:
    capability = CAPABILITY

    def __init__(self, settings: Settings, *, indexes: Path, client: Any | None = None) -> None:
        assert settings.gcp_project_id
        self._settings = settings
        self._spec = IndexSpec.read(indexes)
        self._database = f"projects/{settings.gcp_project_id}/databases/(default)"
        self._emulator = settings.firestore_emulator_host is not None and client is None
        self._client = client
        self._remote = RemoteCall.from_settings("firestore", settings, clock=SystemClock())

    def _admin(self) -> Any:
        if self._client is None:
            from google.cloud.firestore_admin_v1.services.firestore_admin import FirestoreAdminAsyncClient

            self._client = FirestoreAdminAsyncClient()
        return self._client

    async def provision(self, *, dry_run: bool) -> list[Change]:
        if self._emulator:
            count = (
                f"{len(self._spec.indexes)} composite indexes and {len(self._spec.ttl_fields)} TTL policies"
            )
            return [
                Change(
                    CAPABILITY,
                    "indexes",
                    self._database,
                    Action.MANUAL,
                    f"the emulator has none; on Google: {count}",
                )
            ]
        admin = self._admin()

        async def listed(timeout: float) -> list[Index]:
            pages = await admin.list_indexes(
                parent=f"{self._database}/collectionGroups/-", timeout=timeout, retry=None
            )
            return [index async for index in pages]

        existing = await call(self._remote, listed, what="listing Firestore indexes")
        creates = index_requests(self._database, self._spec, existing)
        fields: dict[str, Field | None] = {}
        for group, field in self._spec.ttl_fields:
            name = f"{self._database}/collectionGroups/{group}/fields/{field}"
            try:
                fields[name] = await call(
                    self._remote,
                    lambda t, n=name: admin.get_field(name=n, timeout=t, retry=None),  # type: ignore[misc]
                    what=f"reading field {group}.{field}",
                )
            except api_exceptions.NotFound:
                fields[name] = None
        updates = ttl_requests(self._database, self._spec, fields)
        for request in creates if not dry_run else []:
            await call(
                self._remote,
                lambda t, r=request: admin.create_index(request=r, timeout=t, retry=None),  # type: ignore[misc]
                what=f"creating an index on {request.parent.rsplit('/', 1)[-1]}",
            )
        for update in updates if not dry_run else []:
            await call(
                self._remote,
                lambda t, r=update: admin.update_field(request=r, timeout=t, retry=None),  # type: ignore[misc]
                what=f"setting the TTL policy of {update.field.name}",
            )
        have = {_index_key(index) for index in existing}
        changes = [
            Change(CAPABILITY, "index", _describe(entry), Action.KEEP)
            if _spec_key(entry) in have
            else Change(CAPABILITY, "index", _describe(entry), Action.CREATE, "built by Firestore in minutes")
            for entry in self._spec.indexes
        ]
        to_update = {update.field.name for update in updates}
        for group, field in self._spec.ttl_fields:
            name = f"{self._database}/collectionGroups/{group}/fields/{field}"
            action = Action.CREATE if name in to_update else Action.KEEP
            changes.append(Change(CAPABILITY, "ttl policy", f"{group}.{field}", action))
        return changes

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.transport.close()


def _describe(entry: dict[str, Any]) -> str:
    fields = ", ".join(f"{f['fieldPath']} {f.get('order') or f.get('arrayConfig')}" for f in entry["fields"])
    return f"{entry['collectionGroup']} ({fields})"
