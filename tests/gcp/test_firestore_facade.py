"""``virtuoso_api.gcp.get_firestore_client()``: the seed's examples as written, and every method."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import BACKENDS
from virtuoso_api.errors import Conflict
from virtuoso_api.gcp import FirestoreClient
from virtuoso_api.gcp.firestore_client import Put, Remove
from virtuoso_api.kit.clock import ManualClock


@pytest.mark.usefixtures("forget_the_process_client")
@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_seeds_session_example_runs_as_written(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, request: pytest.FixtureRequest, backend: str
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    if backend == "firestore":  # configured as a user would: the seed's variables, nothing else
        emulator = request.getfixturevalue("firestore_emulator")
        monkeypatch.setenv("USE_FIRESTORE", "true")
        monkeypatch.setenv("GCP_PROJECT_ID", request.getfixturevalue("firestore_project"))
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", emulator.host)
    # --- the seed's "Session Management with Firestore", with app.gcp spelled virtuoso_api.gcp ---
    from virtuoso_api.gcp import get_firestore_client

    firestore = get_firestore_client()

    # Create session
    session: dict[str, object] | None = await firestore.create_session(
        session_id="unique-id", user_id="user-123", checkpoint_id="cp_456"
    )

    # Update session
    await firestore.update_session(session_id="unique-id", checkpoint_id="cp_789")

    # Get session
    session = await firestore.get_session("unique-id")
    # ---
    assert session is not None
    assert (session["session_id"], session["user_id"], session["checkpoint_id"]) == (
        "unique-id",
        "user-123",
        789,
    )
    assert get_firestore_client() is firestore
    assert firestore.backend == backend


class TestSessions:
    async def test_lifecycle(self, facade: FirestoreClient) -> None:
        created = await facade.create_session("s-1", "u-1", checkpoint_id=456, metadata={"branch": "main"})
        assert created["checkpoint_id"] == 456
        with pytest.raises(Conflict):
            await facade.create_session("s-1", "u-2")
        updated = await facade.update_session("s-1", metadata={"branch": "dev"})
        assert updated is not None
        assert (updated["checkpoint_id"], updated["metadata"]) == (456, {"branch": "dev"})
        await facade.create_session("s-2", "u-1")
        assert [s["session_id"] for s in await facade.list_user_sessions("u-1")] == ["s-2", "s-1"]
        assert await facade.delete_session("s-1") is True
        assert await facade.delete_session("s-1") is False
        assert await facade.get_session("s-1") is None
        assert await facade.update_session("s-1", checkpoint_id=1) is None

    async def test_expiry_and_extend(self, facade: FirestoreClient, clock: ManualClock) -> None:
        await facade.create_session("s-1", "u-1")
        clock.advance(timedelta(minutes=50))
        await facade.update_session("s-1", metadata={"n": 1}, extend_expiry=False)
        clock.advance(timedelta(minutes=11))
        assert await facade.get_session("s-1") is None  # not extended: an hour has passed
        await facade.create_session("s-2", "u-1")
        clock.advance(timedelta(minutes=50))
        await facade.update_session("s-2", metadata={"n": 1})
        clock.advance(timedelta(minutes=50))
        assert await facade.get_session("s-2") is not None


class TestApiKeys:
    async def test_create_validate_revoke_list(self, facade: FirestoreClient) -> None:
        made = await facade.create_api_key(
            "u-1", "my-own-key-0123456789", permissions=["read"], tenant_id="acme"
        )
        assert made["key"] == "my-own-key-0123456789"
        assert made["metadata"] == {"tenant_id": "acme"}
        valid = await facade.validate_api_key("my-own-key-0123456789")
        assert valid is not None
        assert (valid["user_id"], valid["scopes"]) == ("u-1", ["read"])
        assert await facade.validate_api_key("not-a-key") is None
        assert [k["key_id"] for k in await facade.list_api_keys("u-1")] == [made["key_id"]]
        assert await facade.revoke_api_key(made["key_id"]) is True
        assert await facade.validate_api_key("my-own-key-0123456789") is None
        assert await facade.revoke_api_key("key_missing") is False

    async def test_a_generated_key_is_returned_once_and_stored_as_a_hash(
        self, facade: FirestoreClient
    ) -> None:
        made = await facade.create_api_key("u-1")
        assert made["key"].startswith("vk_")
        assert all("key" not in listed for listed in await facade.list_api_keys())


class TestHistory:
    async def test_log_and_query(self, facade: FirestoreClient, clock: ManualClock) -> None:
        first = await facade.log_command(
            "u-1", "step-navigate", ["to", "https://a.example"], checkpoint_id="cp_7"
        )
        clock.advance(timedelta(seconds=1))
        second = await facade.log_command(
            "u-1", "step-assert", ["exists", "Welcome"], checkpoint_id=7, session_id="s-1", error="not found"
        )
        clock.advance(timedelta(seconds=1))
        await facade.log_command("u-2", "step-navigate", ["to", "https://b.example"])
        page = await facade.get_command_history({"user_id": "u-1"})
        assert [e["entry_id"] for e in page["entries"]] == [second, first]
        failed = await facade.get_command_history({"user_id": "u-1", "success": False})
        assert [(e["entry_id"], e["error"]) for e in failed["entries"]] == [
            (second, {"message": "not found"})
        ]
        by_checkpoint = await facade.get_command_history({"checkpoint_id": "cp_7", "session_id": "s-1"})
        assert [e["entry_id"] for e in by_checkpoint["entries"]] == [second]
        paged = await facade.get_command_history(limit=2)
        assert paged["next_cursor"] is not None
        rest = await facade.get_command_history(limit=2, cursor=paged["next_cursor"])
        assert [e["entry_id"] for e in rest["entries"]] == [first]


class TestCache:
    async def test_get_set_delete_clear(self, facade: FirestoreClient) -> None:
        assert await facade.cache_get("projects/101") is None
        assert await facade.cache_set("projects/101", {"name": "Demo"}) is True
        await facade.cache_set("projects/102", [1, 2])
        await facade.cache_set("goals/201", "x")
        assert await facade.cache_get("projects/101") == {"name": "Demo"}
        assert await facade.cache_clear("projects/") == 2
        assert await facade.cache_get("projects/102") is None
        assert await facade.cache_get("goals/201") == "x"
        assert await facade.cache_delete("goals/201") is True
        assert await facade.cache_delete("goals/201") is False

    async def test_entries_expire_after_their_ttl(self, facade: FirestoreClient, clock: ManualClock) -> None:
        await facade.cache_set("short", 1, ttl_seconds=10)
        await facade.cache_set("default", 2)
        clock.advance(timedelta(seconds=11))
        assert await facade.cache_get("short") is None
        assert await facade.cache_get("default") == 2
        clock.advance(timedelta(seconds=300))
        assert await facade.cache_get("default") is None
        assert (await facade.cleanup_expired_data())["cache"] == 2


class TestMaintenance:
    async def test_cleanup_removes_only_what_expired(
        self, facade: FirestoreClient, clock: ManualClock
    ) -> None:
        await facade.create_session("old", "u-1")
        clock.advance(timedelta(hours=2))
        await facade.create_session("new", "u-1")
        removed = await facade.cleanup_expired_data()
        assert removed == {
            "sessions": 1,
            "cache": 0,
            "idempotency": 0,
            "jobs": 0,
            "webhook_deliveries": 0,
            "webhook_claims": 0,
            "suite_runs": 0,
        }
        assert await facade.get_session("new") is not None

    async def test_batches_larger_than_firestores_limit(self, facade: FirestoreClient) -> None:
        operations = [Put("notes", f"n{i:04d}", {"i": i}) for i in range(1203)]
        assert await facade.write_batch(operations) == 1203
        assert await facade.read_document("notes", "n1202") == {"i": 1202}
        assert await facade.write_batch([Remove("notes", f"n{i:04d}") for i in range(0, 1203, 2)]) == 602
        assert await facade.read_document("notes", "n1202") is None
        assert await facade.read_document("notes", "n1201") == {"i": 1201}
