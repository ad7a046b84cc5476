"""The documents port's contract, run against every adapter (``store`` is parametrised in conftest).

Each test states one rule of ``infra/documents/port.py``; SQLite and Firestore must both keep it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.infra.documents.conftest import START, UNSTORABLE
from virtuoso_api.infra.documents import (
    MAX_BATCH_OPERATIONS,
    Document,
    DocumentAlreadyExists,
    DocumentChanged,
    DocumentNotFound,
    DocumentStore,
    Filter,
    InvalidCursor,
    JsonObject,
    Op,
    Patch,
    Put,
    Query,
    Remove,
    WriteOp,
)
from virtuoso_api.kit.clock import ManualClock

HOUR = timedelta(hours=1)


async def read_all(store: DocumentStore, query: Query) -> list[Document]:
    """Every document of ``query``, following cursors to the end (pages may be short)."""
    documents: list[Document] = []
    for _ in range(1000):
        page = await store.query(query)
        documents += page.documents
        if page.next_cursor is None:
            return documents
        query = dataclasses.replace(query, cursor=page.next_cursor)
    raise AssertionError("the cursors never reached the end")


def ids(documents: list[Document]) -> list[str]:
    return [document.id for document in documents]


# -- single documents -----------------------------------------------------------------------------


async def test_backend_names_the_adapter(store: DocumentStore) -> None:
    assert store.backend in {"sqlite", "firestore"}


async def test_create_then_get_returns_the_same_json(store: DocumentStore) -> None:
    data = {
        "text": "héllo ✓",
        "int": 2**53 + 1,
        "negative": -7,
        "float": 1.5,
        "whole_float": 2.0,
        "yes": True,
        "no": False,
        "nothing": None,
        "list": [1, "two", {"three": 3}, None],
        "nested": {"deeper": {"deepest": [True]}},
        "empty_list": [],
        "empty_map": {},
        "dotted.key": "kept as one field",
    }
    created = await store.create("things", "a b.c-é", data)
    assert created == Document("a b.c-é", data, None)
    fetched = await store.get("things", "a b.c-é")
    assert fetched == Document("a b.c-é", data, None)
    assert fetched is not None
    assert isinstance(fetched.data["whole_float"], float)
    assert isinstance(fetched.data["int"], int)


async def test_create_refuses_an_existing_id(store: DocumentStore) -> None:
    await store.create("things", "x", {"v": 1})
    with pytest.raises(DocumentAlreadyExists) as raised:
        await store.create("things", "x", {"v": 2})
    assert (raised.value.collection, raised.value.doc_id) == ("things", "x")
    assert await store.get("things", "x") == Document("x", {"v": 1})


async def test_create_replaces_an_expired_document(store: DocumentStore, clock: ManualClock) -> None:
    await store.create("things", "x", {"old": 1, "shared": "old"}, expires_at=START + HOUR)
    clock.advance(HOUR)
    created = await store.create("things", "x", {"shared": "new"})
    assert created == Document("x", {"shared": "new"}, None)
    assert await store.get("things", "x") == Document("x", {"shared": "new"}, None)
    clock.advance(100 * HOUR)
    assert await store.get("things", "x") is not None  # the old expiry went with the old document


async def test_same_id_in_other_collections_is_another_document(store: DocumentStore) -> None:
    await store.create("left", "x", {"side": "left"})
    await store.create("right", "x", {"side": "right"})
    assert (await store.get("left", "x")) == Document("x", {"side": "left"})
    assert (await store.get("right", "x")) == Document("x", {"side": "right"})
    assert await store.get("middle", "x") is None


async def test_get_of_a_missing_document_is_none(store: DocumentStore) -> None:
    assert await store.get("things", "nobody") is None


async def test_put_creates_and_replaces_whole_documents(store: DocumentStore) -> None:
    await store.put("things", "x", {"a": 1, "b": 2}, expires_at=START + HOUR)
    replaced = await store.put("things", "x", {"b": 3})
    assert replaced == Document("x", {"b": 3}, None)
    assert await store.get("things", "x") == Document("x", {"b": 3}, None)


async def test_patch_sets_top_level_fields_and_returns_the_whole_document(store: DocumentStore) -> None:
    await store.put("things", "x", {"keep": 1, "change": 1, "nested": {"a": 1, "b": 2}})
    patched = await store.patch("things", "x", {"change": 2, "nested": {"c": 3}, "added": None})
    expected = {"keep": 1, "change": 2, "nested": {"c": 3}, "added": None}
    assert patched == Document("x", expected, None)
    assert await store.get("things", "x") == Document("x", expected, None)


async def test_field_names_are_literal_never_paths(store: DocumentStore, clock: ManualClock) -> None:
    odd = {"a.b": 1, "with space": 2, "`tick`": 3, "ünï": 4, "1st": 5}
    await store.put("things", "x", {"a": {"b": "nested"}}, expires_at=START + HOUR)
    patched = await store.patch("things", "x", odd)
    assert patched.data == {"a": {"b": "nested"}, **odd}
    clock.advance(HOUR)
    await store.create("things", "x", {"a.b": "fresh"})  # replaces the expired one
    assert await store.get("things", "x") == Document("x", {"a.b": "fresh"})


async def test_patch_with_no_changes_returns_the_document(store: DocumentStore) -> None:
    await store.put("things", "x", {"a": 1})
    assert await store.patch("things", "x", {}) == Document("x", {"a": 1}, None)


async def test_patch_of_missing_or_expired_document_is_not_found(
    store: DocumentStore, clock: ManualClock
) -> None:
    with pytest.raises(DocumentNotFound) as raised:
        await store.patch("things", "missing", {"a": 1})
    assert (raised.value.collection, raised.value.doc_id) == ("things", "missing")
    await store.put("things", "short", {"a": 1}, expires_at=START + HOUR)
    clock.advance(HOUR)
    with pytest.raises(DocumentNotFound):
        await store.patch("things", "short", {"a": 2}, expires_at=None)
    assert await store.get("things", "missing") is None
    assert await store.get("things", "short") is None


async def test_patch_expiry_unset_keeps_none_clears_a_time_sets(
    store: DocumentStore, clock: ManualClock
) -> None:
    first, later = START + HOUR, START + 3 * HOUR
    await store.put("things", "x", {"n": 0}, expires_at=first)
    kept = await store.patch("things", "x", {"n": 1})
    assert kept.expires_at == first
    moved = await store.patch("things", "x", {"n": 2}, expires_at=later)
    assert moved.expires_at == later
    cleared = await store.patch("things", "x", {"n": 3}, expires_at=None)
    assert cleared.expires_at is None
    clock.advance(10 * HOUR)
    assert await store.get("things", "x") == Document("x", {"n": 3}, None)


async def test_delete_says_whether_a_live_document_was_there(
    store: DocumentStore, clock: ManualClock
) -> None:
    await store.put("things", "live", {"a": 1})
    await store.put("things", "stale", {"a": 1}, expires_at=START + HOUR)
    clock.advance(HOUR)
    assert await store.delete("things", "live") is True
    assert await store.delete("things", "live") is False
    assert await store.delete("things", "stale") is False
    assert await store.delete("things", "never") is False
    assert await store.get("things", "live") is None
    assert await store.delete_expired("things") == 0  # the expired one went with the delete


async def test_expiry_is_exclusive_of_its_instant(store: DocumentStore, clock: ManualClock) -> None:
    expires = START + HOUR
    await store.put("things", "x", {"a": 1}, expires_at=expires)
    clock.advance(HOUR - timedelta(microseconds=1))
    live = await store.get("things", "x")
    assert live == Document("x", {"a": 1}, expires)
    assert live is not None
    assert live.expires_at is not None
    assert live.expires_at.utcoffset() == timedelta(0)
    clock.advance(timedelta(microseconds=1))
    assert await store.get("things", "x") is None


async def test_expiry_field_is_reserved(store: DocumentStore) -> None:
    with pytest.raises(ValueError, match="reserved"):
        await store.create("things", "x", {"expires_at": "soon"})
    with pytest.raises(ValueError, match="reserved"):
        await store.put("things", "x", {"expires_at": "soon"})
    await store.put("things", "x", {"a": 1})
    with pytest.raises(ValueError, match="reserved"):
        await store.patch("things", "x", {"expires_at": "soon"})
    with pytest.raises(ValueError, match="reserved"):
        await store.write_batch([Put("things", "y", {"expires_at": "soon"})])
    assert await store.get("things", "x") == Document("x", {"a": 1})
    assert await store.get("things", "y") is None


@pytest.mark.parametrize("doc_id", ["", ".", "..", "a/b", "__x__", "x" * 1501])
async def test_invalid_document_ids_are_refused(store: DocumentStore, doc_id: str) -> None:
    with pytest.raises(ValueError, match="invalid document id"):
        await store.put("things", doc_id, {})
    with pytest.raises(ValueError, match="invalid document id"):
        await store.get("things", doc_id)


@pytest.mark.parametrize("collection", ["", "Upper", "1st", "a-b", "a/b"])
async def test_invalid_collection_names_are_refused(store: DocumentStore, collection: str) -> None:
    with pytest.raises(ValueError, match="invalid collection"):
        await store.put(collection, "x", {})


async def test_of_concurrent_creates_exactly_one_wins(store: DocumentStore) -> None:
    results = await asyncio.gather(
        *(store.create("things", "contested", {"writer": i}) for i in range(8)), return_exceptions=True
    )
    winners = [r for r in results if isinstance(r, Document)]
    assert len(winners) == 1
    assert all(isinstance(r, DocumentAlreadyExists) for r in results if r is not winners[0])
    assert await store.get("things", "contested") == winners[0]


async def test_concurrent_patches_of_one_document_all_land(store: DocumentStore) -> None:
    await store.put("things", "shared", {"base": True})
    await asyncio.gather(*(store.patch("things", "shared", {f"k{i}": i}) for i in range(6)))
    stored = await store.get("things", "shared")
    assert stored == Document("shared", {"base": True, **{f"k{i}": i for i in range(6)}})


# -- queries --------------------------------------------------------------------------------------


async def seed_scores(store: DocumentStore) -> None:
    rows: dict[str, JsonObject] = {
        "a": {"score": 3, "name": "a", "team": "red", "on": True},
        "b": {"score": 1, "name": "b", "team": "blue", "on": False},
        "c": {"score": 2, "name": "c", "team": "red", "on": True},
        "d": {"score": 2, "name": "d", "team": "blue", "on": True},
        "e": {"score": 5, "name": "e", "team": "red", "on": False},
        "f": {"name": "f", "team": "green"},
    }
    await store.write_batch([Put("scores", doc_id, data) for doc_id, data in rows.items()])


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        (Op.EQ, 2, ["c", "d"]),
        (Op.LT, 2, ["b"]),
        (Op.LE, 2, ["b", "c", "d"]),
        (Op.GT, 2, ["a", "e"]),
        (Op.GE, 2, ["a", "c", "d", "e"]),
    ],
)
async def test_each_filter_operator(store: DocumentStore, op: Op, value: int, expected: list[str]) -> None:
    await seed_scores(store)
    found = await read_all(store, Query("scores", (Filter("score", op, value),)))
    assert ids(found) == expected  # without order_by: by document id


async def test_filters_on_strings_and_booleans(store: DocumentStore) -> None:
    await seed_scores(store)
    assert ids(await read_all(store, Query("scores", (Filter("name", Op.GE, "d"),)))) == ["d", "e", "f"]
    assert ids(await read_all(store, Query("scores", (Filter("on", Op.EQ, True),)))) == ["a", "c", "d"]
    assert ids(await read_all(store, Query("scores", (Filter("team", Op.EQ, "purple"),)))) == []


async def test_filters_combine_with_and(store: DocumentStore) -> None:
    await seed_scores(store)
    query = Query(
        "scores",
        (Filter("team", Op.EQ, "red"), Filter("score", Op.GE, 2), Filter("score", Op.LT, 5)),
        order_by="score",
    )
    assert ids(await read_all(store, query)) == ["c", "a"]


async def test_range_on_another_field_than_the_order(store: DocumentStore) -> None:
    await seed_scores(store)
    query = Query("scores", (Filter("name", Op.GT, "a"),), order_by="score", descending=True, limit=2)
    assert ids(await read_all(store, query)) == ["e", "d", "c", "b"]


async def test_equality_on_the_order_field(store: DocumentStore) -> None:
    await seed_scores(store)
    query = Query("scores", (Filter("score", Op.EQ, 2),), order_by="score", descending=True, limit=1)
    assert ids(await read_all(store, query)) == ["d", "c"]


async def test_order_ascending_and_descending_with_ties_broken_by_id(store: DocumentStore) -> None:
    await seed_scores(store)
    ascending = await read_all(store, Query("scores", order_by="score"))
    assert ids(ascending) == ["b", "c", "d", "a", "e"]  # "f" has no score: left out
    descending = await read_all(store, Query("scores", order_by="score", descending=True))
    assert ids(descending) == ["e", "a", "d", "c", "b"]


async def test_without_order_by_documents_come_by_id(store: DocumentStore) -> None:
    await seed_scores(store)
    assert ids(await read_all(store, Query("scores", limit=4))) == ["a", "b", "c", "d", "e", "f"]
    by_team = Query("scores", (Filter("team", Op.EQ, "red"),), limit=2)
    assert ids(await read_all(store, by_team)) == ["a", "c", "e"]


def test_descending_needs_an_order_field() -> None:
    # Firestore needs an index on __name__ DESC for it and its emulator refuses it: the port does too.
    with pytest.raises(ValueError, match="descending order needs an order_by field"):
        Query("scores", descending=True, limit=4)


@pytest.mark.parametrize(
    "query",
    [
        lambda: Query("scores", (Filter("expires_at", Op.LT, "2030"),)),
        lambda: Query("scores", order_by="expires_at"),
    ],
)
def test_the_expiry_is_not_a_queryable_field(query: Callable[[], Query]) -> None:
    with pytest.raises(ValueError, match="the store's expiry"):
        query()


async def test_documents_without_the_order_value_are_left_out(store: DocumentStore) -> None:
    await store.write_batch(
        [
            Put("rows", "has", {"at": "2026"}),
            Put("rows", "null", {"at": None}),
            Put("rows", "missing", {"other": 1}),
        ]
    )
    assert ids(await read_all(store, Query("rows", order_by="at"))) == ["has"]
    assert ids(await read_all(store, Query("rows", order_by="at", descending=True))) == ["has"]


async def test_queries_skip_expired_documents(store: DocumentStore, clock: ManualClock) -> None:
    operations = [
        Put("rows", f"r{i:02}", {"n": i}, expires_at=START + HOUR if i % 3 else None) for i in range(12)
    ]
    await store.write_batch(operations)
    clock.advance(HOUR)
    found = await read_all(store, Query("rows", order_by="n", limit=2))
    assert ids(found) == ["r00", "r03", "r06", "r09"]
    assert all(document.expires_at is None for document in found)


@pytest.mark.parametrize("descending", [False, True])
async def test_paging_visits_every_document_once(store: DocumentStore, descending: bool) -> None:
    # Many ties across page boundaries: order values repeat, so only the id tie-break keeps order.
    operations = [
        Put("rows", f"id{i:03}", {"bucket": i % 4, "tag": "t" if i % 5 else "x"}) for i in range(57)
    ]
    await store.write_batch(operations)
    query = Query("rows", (Filter("tag", Op.EQ, "t"),), order_by="bucket", descending=descending, limit=7)
    pages: list[list[str]] = []
    while True:
        page = await store.query(query)
        pages.append(ids(page.documents))
        if page.next_cursor is None:
            break
        query = dataclasses.replace(query, cursor=page.next_cursor)
    seen = [doc_id for page_ids in pages for doc_id in page_ids]
    expected = sorted(
        (f"id{i:03}" for i in range(57) if i % 5),
        key=lambda doc_id: (int(doc_id[2:]) % 4, doc_id),
        reverse=descending,
    )
    assert seen == expected
    assert len(set(seen)) == len(seen)
    assert all(len(page_ids) <= 7 for page_ids in pages)


async def test_a_page_ends_with_no_cursor_when_exactly_full(store: DocumentStore) -> None:
    await store.write_batch([Put("rows", f"r{i}", {"n": i}) for i in range(4)])
    first = await store.query(Query("rows", order_by="n", limit=2))
    assert ids(first.documents) == ["r0", "r1"]
    assert first.next_cursor is not None
    second = await store.query(Query("rows", order_by="n", limit=2, cursor=first.next_cursor))
    assert ids(second.documents) == ["r2", "r3"]
    assert second.next_cursor is None
    everything = await store.query(Query("rows", order_by="n", limit=4))
    assert everything.next_cursor is None


@pytest.mark.parametrize("cursor", ["", "not a cursor", "eyJ4IjoxfQ", "W10", "%%%"])
async def test_cursors_not_handed_out_are_invalid(store: DocumentStore, cursor: str) -> None:
    await store.put("rows", "r", {"n": 1})
    with pytest.raises(InvalidCursor):
        await store.query(Query("rows", order_by="n", cursor=cursor))


async def test_cursor_of_another_query_shape_is_invalid(store: DocumentStore) -> None:
    await store.write_batch([Put("rows", f"r{i}", {"n": i, "m": i}) for i in range(3)])
    page = await store.query(Query("rows", order_by="n", limit=1))
    assert page.next_cursor is not None
    for other in (
        Query("rows", order_by="m", limit=1, cursor=page.next_cursor),
        Query("rows", order_by="n", descending=True, limit=1, cursor=page.next_cursor),
        Query("rows", limit=1, cursor=page.next_cursor),
    ):
        with pytest.raises(InvalidCursor):
            await store.query(other)


# -- batches and expiry sweeps --------------------------------------------------------------------


async def test_batch_applies_operations_in_order(store: DocumentStore) -> None:
    await store.put("rows", "gone", {"a": 1})
    await store.put("rows", "kept", {"a": 1, "b": 1})
    await store.write_batch(
        [
            Put("rows", "new", {"a": 1}),
            Patch("rows", "new", {"b": 2}),  # sees the put just before it
            Patch("rows", "kept", {"b": 2}),
            Remove("rows", "gone"),
            Put("rows", "again", {"v": 1}),
            Remove("rows", "again"),
            Put("rows", "again", {"v": 2}),
            Remove("rows", "never-there"),
            Put("other", "x", {"z": 1}),
        ]
    )
    assert await store.get("rows", "new") == Document("new", {"a": 1, "b": 2})
    assert await store.get("rows", "kept") == Document("kept", {"a": 1, "b": 2})
    assert await store.get("rows", "gone") is None
    assert await store.get("rows", "again") == Document("again", {"v": 2})
    assert await store.get("other", "x") == Document("x", {"z": 1})


async def test_batch_patch_of_missing_document_applies_nothing(store: DocumentStore) -> None:
    await store.put("rows", "x", {"v": 1})
    with pytest.raises(DocumentNotFound):
        await store.write_batch(
            [Put("rows", "y", {"v": 1}), Patch("rows", "x", {"v": 2}), Patch("rows", "nobody", {"v": 1})]
        )
    assert await store.get("rows", "y") is None
    assert await store.get("rows", "x") == Document("x", {"v": 1})
    with pytest.raises(DocumentNotFound):
        await store.write_batch([Remove("rows", "x"), Patch("rows", "x", {"v": 3})])
    assert await store.get("rows", "x") == Document("x", {"v": 1})


async def test_a_removal_that_expects_fields_applies_only_while_they_hold(store: DocumentStore) -> None:
    await store.put("rows", "record", {"begun": "first", "n": 1})
    settled = Put("log", "entry", {"said": "settled"})
    expecting: list[WriteOp] = [settled, Remove("rows", "record", expect={"begun": "first"})]

    await store.put("rows", "record", {"begun": "second", "n": 1})  # written again since it was read
    with pytest.raises(DocumentChanged):
        await store.write_batch(expecting)
    assert await store.get("log", "entry") is None  # nothing in the batch was written
    assert await store.get("rows", "record") == Document("record", {"begun": "second", "n": 1})

    await store.delete("rows", "record")
    with pytest.raises(DocumentChanged):  # gone: someone else removed it
        await store.write_batch(expecting)
    assert await store.get("log", "entry") is None

    await store.put("rows", "record", {"begun": "first", "n": 2})  # other fields may differ
    await store.write_batch(expecting)
    assert await store.get("rows", "record") is None
    assert await store.get("log", "entry") == Document("entry", {"said": "settled"})


async def test_of_concurrent_expecting_removals_exactly_one_lands(store: DocumentStore) -> None:
    await store.put("rows", "record", {"begun": "b"})
    results = await asyncio.gather(
        *(
            store.write_batch([Put("log", f"by-{i}", {}), Remove("rows", "record", expect={"begun": "b"})])
            for i in range(6)
        ),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, DocumentChanged) for r in results if r is not None)
    assert len((await store.query(Query("log"))).documents) == 1


async def test_empty_batch_is_a_no_op(store: DocumentStore) -> None:
    await store.write_batch([])
    assert (await store.query(Query("rows"))).documents == []


async def test_batches_larger_than_one_commit(store: DocumentStore) -> None:
    count = 2 * MAX_BATCH_OPERATIONS + 37
    await store.write_batch([Put("bulk", f"d{i:04}", {"i": i}) for i in range(count)])
    # Patches and removes spread across chunk boundaries.
    await store.write_batch(
        [Patch("bulk", f"d{i:04}", {"patched": True}) for i in range(0, count, 2)]
        + [Remove("bulk", f"d{i:04}") for i in range(1, count, 10)]
    )
    found = await read_all(store, Query("bulk", limit=1000))
    removed = {f"d{i:04}" for i in range(1, count, 10)}
    assert ids(found) == [f"d{i:04}" for i in range(count) if f"d{i:04}" not in removed]
    for document in found:
        i = document.data["i"]
        assert document.data == ({"i": i, "patched": True} if i % 2 == 0 else {"i": i})


async def test_delete_expired_removes_only_expired_documents(
    store: DocumentStore, clock: ManualClock
) -> None:
    await store.write_batch(
        [Put("cache", f"old{i}", {"i": i}, expires_at=START + HOUR) for i in range(7)]
        + [
            Put("cache", "fresh", {"i": 0}, expires_at=START + 5 * HOUR),
            Put("cache", "forever", {"i": 0}),
            Put("other", "old", {"i": 0}, expires_at=START + HOUR),
        ]
    )
    assert await store.delete_expired("cache") == 0
    clock.advance(HOUR)
    assert await store.delete_expired("cache", limit=5) == 5
    assert await store.delete_expired("cache", limit=5) == 2
    assert await store.delete_expired("cache") == 0
    assert ids(await read_all(store, Query("cache"))) == ["forever", "fresh"]
    clock.advance(-HOUR)  # had the sweep left them, they would be visible again now
    assert ids(await read_all(store, Query("cache"))) == ["forever", "fresh"]
    assert await store.get("other", "old") is not None  # other collections are not swept


async def test_ping_answers(store: DocumentStore) -> None:
    await store.ping()


@pytest.mark.parametrize(
    ("data", "error", "reason"),
    UNSTORABLE,
)
async def test_every_store_refuses_what_another_could_not_store(
    store: DocumentStore, data: dict[str, object], error: type[Exception], reason: str
) -> None:
    with pytest.raises(error, match=reason):
        await store.put("things", "x", data)
    with pytest.raises(error, match=reason):
        await store.write_batch([Put("things", "ok", {"ok": 1}), Put("things", "y", data)])
    assert await store.get("things", "ok") is None  # the batch was refused whole


async def test_returned_expiry_is_utc_whatever_was_given(store: DocumentStore) -> None:
    naive = START.replace(tzinfo=None) + timedelta(hours=1)
    written = await store.put("things", "x", {}, expires_at=naive)
    assert written.expires_at == naive.replace(tzinfo=START.tzinfo)
    assert written.expires_at is not None
    assert written.expires_at.tzinfo is not None


async def test_delete_expired_needs_a_positive_limit(store: DocumentStore) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await store.delete_expired("things", limit=0)
