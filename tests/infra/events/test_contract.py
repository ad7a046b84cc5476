"""The events port's contract, on the local log and on the Pub/Sub emulator alike."""

from __future__ import annotations

import asyncio

import pytest

from tests.infra.events.conftest import BusUnderTest
from virtuoso_api.infra.events import MIN_DELIVERY_ATTEMPTS, Message, SubscriptionSpec, UnknownSubscription


def message(n: int, key: str = "", **attributes: str) -> Message:
    return Message(f"evt_{n:04d}", f'{{"n": {n}}}'.encode(), {"type": "test.event", **attributes}, key)


async def test_a_subscription_receives_what_is_published_after_it_exists(under_test: BusUnderTest) -> None:
    bus = under_test.bus
    await bus.publish([message(0)])
    spec = under_test.spec()
    await bus.subscribe(spec)
    await bus.subscribe(spec)  # idempotent
    await bus.publish([message(1, owner="ana"), message(2)])
    received = await under_test.pull_until(spec.name, 2)
    assert sorted(r.message.id for r in received) == ["evt_0001", "evt_0002"]
    first = next(r for r in received if r.message.id == "evt_0001")
    assert first.message.data == b'{"n": 1}'
    assert first.message.attributes == {"type": "test.event", "owner": "ana"}
    assert first.delivery_attempt == 1
    # Acked: nothing comes again.
    assert await bus.pull(spec.name, wait_seconds=1) == []


async def test_every_subscription_receives_every_message(under_test: BusUnderTest) -> None:
    one, two = under_test.spec(), under_test.spec()
    for spec in (one, two):
        await under_test.bus.subscribe(spec)
    await under_test.bus.publish([message(n) for n in range(3)])
    for spec in (one, two):
        assert len(await under_test.pull_until(spec.name, 3)) == 3


async def test_messages_of_one_ordering_key_arrive_in_order(under_test: BusUnderTest) -> None:
    spec = under_test.spec()
    await under_test.bus.subscribe(spec)
    # One checkpoint's events interleaved with another's, published as the outbox does: in order.
    for n in range(12):
        await under_test.bus.publish([message(n, key=f"checkpoint:{n % 2}")])
    received = await under_test.pull_until(spec.name, 12)
    for key in ("checkpoint:0", "checkpoint:1"):
        ids = [r.message.id for r in received if r.message.ordering_key == key]
        assert ids == sorted(ids)
        assert len(ids) == 6


async def test_a_nacked_message_comes_again_counting_attempts(under_test: BusUnderTest) -> None:
    spec = under_test.spec()
    await under_test.bus.subscribe(spec)
    await under_test.bus.publish([message(1)])
    (first,) = await under_test.pull_until(spec.name, 1, ack=False)
    await under_test.bus.nack(spec.name, [first.ack_id])
    (again,) = await under_test.pull_until(spec.name, 1)
    assert again.message.id == first.message.id
    assert again.delivery_attempt == 2


async def test_a_lease_that_runs_out_comes_again(under_test: BusUnderTest) -> None:
    spec = under_test.spec(ack_deadline_seconds=10)
    await under_test.bus.subscribe(spec)
    await under_test.bus.publish([message(1)])
    (first,) = await under_test.pull_until(spec.name, 1, ack=False)
    assert await under_test.bus.pull(spec.name) == []  # leased: not handed out twice at once
    await under_test.expire_leases(spec.ack_deadline_seconds)
    (again,) = await under_test.pull_until(spec.name, 1)
    assert again.message.id == first.message.id
    assert again.delivery_attempt == 2


async def test_after_n_attempts_a_message_is_dead_lettered_and_a_replay_delivers_it(
    under_test: BusUnderTest,
) -> None:
    bus = under_test.bus
    # Unordered: Google's emulator never dead-letters on a subscription with message ordering on
    # (Pub/Sub itself does); the local log dead-letters either kind (the facade's test does, ordered).
    failing, bystander = under_test.spec(ordered=False), under_test.spec(ordered=False)
    await bus.subscribe(failing)
    await bus.subscribe(bystander)
    await bus.publish([message(7)])
    assert len(await under_test.pull_until(bystander.name, 1)) == 1
    attempts = []
    for _ in range(MIN_DELIVERY_ATTEMPTS):
        (delivery,) = await under_test.pull_until(failing.name, 1, ack=False)
        attempts.append(delivery.delivery_attempt)
        await bus.nack(failing.name, [delivery.ack_id])
    assert attempts == list(range(1, MIN_DELIVERY_ATTEMPTS + 1))
    dead = await under_test.dead_letters_of(failing.name, 1)
    assert [m.id for m in dead] == ["evt_0007"]
    assert await bus.dead_letters(failing.name) == dead  # listing leaves them there
    assert await bus.pull(failing.name, wait_seconds=1) == []

    assert await bus.replay_dead_letters(failing.name) == 1
    (replayed,) = await under_test.pull_until(failing.name, 1)
    assert replayed.message.id == "evt_0007"
    assert replayed.message.data == b'{"n": 7}'
    assert replayed.delivery_attempt == 1
    assert await bus.dead_letters(failing.name) == []
    # The replay was for the failing subscription only.
    assert await bus.pull(bystander.name, wait_seconds=1) == []


async def test_an_unknown_subscription_is_named(under_test: BusUnderTest) -> None:
    with pytest.raises(UnknownSubscription, match="nobody-here"):
        await under_test.bus.pull("nobody-here")


async def test_a_deleted_subscription_receives_nothing_more(under_test: BusUnderTest) -> None:
    spec = under_test.spec()
    await under_test.bus.subscribe(spec)
    await under_test.bus.delete_subscription(spec.name)
    await under_test.bus.delete_subscription(spec.name)  # a missing one is fine
    await under_test.bus.publish([message(1)])
    with pytest.raises(UnknownSubscription):
        await under_test.bus.pull(spec.name)


async def test_concurrent_pullers_share_the_messages_without_doubles(under_test: BusUnderTest) -> None:
    spec = under_test.spec()
    await under_test.bus.subscribe(spec)
    await under_test.bus.publish([message(n) for n in range(20)])
    results = await asyncio.gather(*(under_test.pull_until(spec.name, 10, rounds=5) for _ in range(3)))
    ids = [r.message.id for batch in results for r in batch]
    assert sorted(set(ids)) == [f"evt_{n:04d}" for n in range(20)]


def test_subscription_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="max_delivery_attempts"):
        SubscriptionSpec("valid-name", max_delivery_attempts=2)
    with pytest.raises(ValueError, match="subscription name"):
        SubscriptionSpec("9 bad name")
    with pytest.raises(ValueError, match="ack_deadline"):
        SubscriptionSpec("valid-name", ack_deadline_seconds=5)
