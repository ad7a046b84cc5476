"""Pub/Sub: the events topic, each consumer's subscription and dead-letter topic (as the service
creates them, ``infra/events/gcp_pubsub.subscriptions_for``), message retention on topics and
subscriptions, and the IAM bindings Pub/Sub's service agent needs to forward to a dead-letter topic.

Dead-lettering works only if the project's Pub/Sub service agent
(``service-{PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com``) may publish to the dead-letter
topic and acknowledge on the source subscription; without these Pub/Sub keeps redelivering instead.
The emulator has no IAM: there the bindings are reported as what to do, not sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Final

from google.api_core import exceptions as api_exceptions
from google.iam.v1 import iam_policy_pb2, policy_pb2
from google.protobuf import duration_pb2, field_mask_pb2
from google.pubsub_v1.types import Subscription, Topic

from virtuoso_api.config import Settings
from virtuoso_api.gcp.bootstrap.plan import Action, Change, call, reconcile
from virtuoso_api.infra.events import SubscriptionSpec
from virtuoso_api.infra.events.gcp_pubsub import DEAD_SUFFIX, TOPIC, make_clients, subscriptions_for
from virtuoso_api.kit.clock import SystemClock
from virtuoso_api.resilience import RemoteCall
from virtuoso_api.webhooks.service import SUBSCRIPTION as WEBHOOKS

CAPABILITY = "Pub/Sub"
#: Topics keep a week of messages, so a subscription made or re-made within it (a lost consumer, an
#: emulator-free replay with seek) can still read them; the cost is storage, billed per GB-month.
TOPIC_RETENTION: Final = duration_pb2.Duration(seconds=7 * 86400)
#: Subscriptions keep unacknowledged messages for the most Pub/Sub allows (7 days): a webhook
#: consumer down over a weekend loses nothing.
SUBSCRIPTION_RETENTION: Final = duration_pb2.Duration(seconds=7 * 86400)
#: The consumers whose subscriptions exist before the service starts (per-instance stream mirrors
#: are made by each instance).
CONSUMERS: Final = (SubscriptionSpec(WEBHOOKS),)
RETENTION_MASK: Final = field_mask_pb2.FieldMask(paths=["message_retention_duration"])
PUBLISHER: Final = "roles/pubsub.publisher"
SUBSCRIBER: Final = "roles/pubsub.subscriber"


def _seconds(duration: Any) -> float:
    # proto-plus hands a Duration field back as a timedelta.
    return float(duration.total_seconds())


#: One remote attempt, given its timeout: the client's coroutine. Written out per resource type with
#: the client's own method (not passed as bound methods), so the IAM table's scan
#: (tests/deploy/test_iam.py) sees every RPC bootstrap makes.
_Attempt = Callable[[float], Awaitable[Any]]


def service_agent(project_number: str) -> str:
    return f"serviceAccount:service-{project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"


def with_binding(policy: policy_pb2.Policy, role: str, member: str) -> policy_pb2.Policy | None:
    """``policy`` with ``member`` in ``role`` (its etag kept, so a concurrent change is refused rather
    than overwritten), or None when it already is."""
    for binding in policy.bindings:
        if binding.role == role and not binding.HasField("condition") and member in binding.members:
            return None
    changed = policy_pb2.Policy()
    changed.CopyFrom(policy)
    for binding in changed.bindings:
        if binding.role == role and not binding.HasField("condition"):
            binding.members.append(member)
            return changed
    changed.bindings.add(role=role, members=[member])
    return changed


def iam_plan(project: str, project_number: str) -> list[tuple[str, str, str]]:
    """(resource, role, member) for every binding dead-lettering needs."""
    member = service_agent(project_number)
    plan = []
    for spec in CONSUMERS:
        plan.append((f"projects/{project}/topics/{spec.name}{DEAD_SUFFIX}", PUBLISHER, member))
        plan.append((f"projects/{project}/subscriptions/{spec.name}", SUBSCRIBER, member))
    return plan


class PubSubProvisioner:
    capability = CAPABILITY

    def __init__(
        self,
        settings: Settings,
        *,
        project_number: str | None,
        publisher: Any | None = None,
        subscriber: Any | None = None,
        iam: Any | None = None,
    ) -> None:
        assert settings.gcp_project_id
        self._project = settings.gcp_project_id
        self._number = project_number
        if publisher is None or subscriber is None:
            publisher, subscriber = make_clients(settings.pubsub_emulator_host)
        self._publisher = publisher
        self._subscriber = subscriber
        # Topic and subscription IAM are methods of the publisher client (one IAMPolicy service).
        self._iam = iam or publisher
        self._emulator = settings.pubsub_emulator_host is not None and iam is None
        self._remote = RemoteCall.from_settings("pubsub", settings, clock=SystemClock())

    async def provision(self, *, dry_run: bool) -> list[Change]:
        changes = [await self._topic(TOPIC, dry_run)]
        for spec in CONSUMERS:
            changes.append(await self._topic(spec.name + DEAD_SUFFIX, dry_run))
            for subscription in subscriptions_for(self._project, spec):
                subscription.message_retention_duration = SUBSCRIPTION_RETENTION
                changes.append(await self._subscription(subscription, dry_run))
        changes += await self._bindings(dry_run)
        return changes

    async def _topic(self, name: str, dry_run: bool) -> Change:
        path = f"projects/{self._project}/topics/{name}"
        wanted = Topic(name=path, message_retention_duration=TOPIC_RETENTION)
        return await self._retained(
            "topic",
            wanted,
            TOPIC_RETENTION,
            f"retention {TOPIC_RETENTION.seconds // 86400} days",
            dry_run,
            get=lambda t: self._publisher.get_topic(topic=path, timeout=t, retry=None),
            create=lambda t: self._publisher.create_topic(request=wanted, timeout=t, retry=None),
            update=lambda t, r: self._publisher.update_topic(request=r, timeout=t, retry=None),
        )

    async def _subscription(self, wanted: Subscription, dry_run: bool) -> Change:
        path = wanted.name
        detail = f"retention {SUBSCRIPTION_RETENTION.seconds // 86400} days"
        if wanted.dead_letter_policy.dead_letter_topic:
            policy = wanted.dead_letter_policy
            detail += (
                f", dead letters to {policy.dead_letter_topic} after {policy.max_delivery_attempts} attempts"
            )
        return await self._retained(
            "subscription",
            wanted,
            SUBSCRIPTION_RETENTION,
            detail,
            dry_run,
            get=lambda t: self._subscriber.get_subscription(subscription=path, timeout=t, retry=None),
            create=lambda t: self._subscriber.create_subscription(request=wanted, timeout=t, retry=None),
            update=lambda t, r: self._subscriber.update_subscription(request=r, timeout=t, retry=None),
        )

    async def _retained(
        self,
        kind: str,
        wanted: Topic | Subscription,
        retention: duration_pb2.Duration,
        detail: str,
        dry_run: bool,
        *,
        get: _Attempt,
        create: _Attempt,
        update: Callable[[float, dict[str, Any]], Awaitable[Any]],
    ) -> Change:
        """``wanted`` (a ``kind``: topic or subscription) made when missing, and its message retention
        set back to ``retention`` when it differs; the rest of an existing one is left as it is."""
        path = wanted.name
        short = path.rsplit("/", 1)[-1]
        try:
            found = await call(self._remote, get, what=f"reading {kind} {short}")
        except api_exceptions.NotFound:
            found = None

        def differs(have: Any) -> dict[str, Any] | None:
            if _seconds(have.message_retention_duration) == retention.seconds:
                return None
            patch = type(wanted)(name=path, message_retention_duration=retention)
            return {kind: patch, "update_mask": RETENTION_MASK}

        async def patch(_: Any, request: dict[str, Any]) -> None:
            await call(self._remote, lambda t: update(t, request), what=f"updating {kind} {short}")

        return await reconcile(
            CAPABILITY,
            kind,
            path,
            found=found,
            create=lambda: self._create(create, short),
            differs=differs,
            update=patch,
            detail=detail,
            dry_run=dry_run,
        )

    async def _create(self, attempt: Any, name: str) -> None:
        # Made meanwhile (by a starting instance): as good.
        with contextlib.suppress(api_exceptions.AlreadyExists):
            await call(self._remote, attempt, what=f"creating {name}")

    async def _bindings(self, dry_run: bool) -> list[Change]:
        if self._number is None:
            command = f"gcloud projects describe {self._project} --format='value(projectNumber)'"
            return [
                Change(
                    CAPABILITY,
                    "iam binding",
                    "Pub/Sub service agent on the dead-letter topics",
                    Action.MANUAL,
                    f"pass --project-number (from `{command}`) so dead letters can be forwarded",
                )
            ]
        changes = []
        for resource, role, member in iam_plan(self._project, self._number):
            name = f"{role} for {member} on {resource}"
            if self._emulator:
                changes.append(
                    Change(
                        CAPABILITY,
                        "iam binding",
                        name,
                        Action.MANUAL,
                        "the emulator has no IAM; sent on Google",
                    )
                )
                continue
            current = await call(
                self._remote,
                lambda t, r=resource: self._iam.get_iam_policy(  # type: ignore[misc]
                    request=iam_policy_pb2.GetIamPolicyRequest(resource=r), timeout=t, retry=None
                ),
                what=f"reading the IAM policy of {resource}",
            )
            changed = with_binding(current, role, member)
            if changed is None:
                changes.append(Change(CAPABILITY, "iam binding", name, Action.KEEP))
                continue
            if not dry_run:
                request = iam_policy_pb2.SetIamPolicyRequest(resource=resource, policy=changed)
                await call(
                    self._remote,
                    lambda t, q=request: self._iam.set_iam_policy(request=q, timeout=t, retry=None),  # type: ignore[misc]
                    what=f"setting the IAM policy of {resource}",
                )
            changes.append(Change(CAPABILITY, "iam binding", name, Action.CREATE))
        return changes

    async def aclose(self) -> None:
        await self._publisher.transport.close()
        await self._subscriber.transport.close()
        if self._iam is not self._publisher:
            await self._iam.transport.close()
