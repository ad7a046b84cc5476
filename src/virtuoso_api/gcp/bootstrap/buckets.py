"""Cloud Storage: the four buckets the settings name (``storage/buckets.py``: results, command logs,
static assets, archive, each ``{STORAGE_BUCKET_PREFIX}{name}``), each with uniform bucket-level
access (no object ACLs: access is IAM on the bucket alone), public access prevention enforced, and
the lifecycle rules ``storage/lifecycle.py`` derives from the settings (none on static assets and
the archive). A bucket whose access settings or rules differ (changed by hand, or the settings
changed) is patched back to them; the rest of the bucket is left as it is.

The service itself then needs only object access on the buckets (deploy/iam.json): making buckets
and setting their rules is the operator's, here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final, TypeVar

from google.api_core import exceptions as api_exceptions

from virtuoso_api.config import Settings
from virtuoso_api.errors import Misconfigured
from virtuoso_api.gcp.bootstrap.plan import Change, call, reconcile
from virtuoso_api.infra.blobs import LifecycleAction, LifecycleRule
from virtuoso_api.infra.blobs.gcp_storage import is_transient, make_client, rule_from_gcs, rule_to_gcs
from virtuoso_api.kit.clock import SystemClock
from virtuoso_api.resilience import RemoteCall
from virtuoso_api.storage.buckets import Buckets
from virtuoso_api.storage.lifecycle import rules_from_settings

if TYPE_CHECKING:
    from google.cloud.storage import Bucket, Client

CAPABILITY = "Cloud Storage"
ENFORCED: Final = "enforced"
T = TypeVar("T")


def wanted_fields(rules: list[LifecycleRule]) -> dict[str, Any]:
    """The bucket resource's fields bootstrap sets (Cloud Storage's JSON API names)."""
    return {
        "iamConfiguration": {
            "uniformBucketLevelAccess": {"enabled": True},
            "publicAccessPrevention": ENFORCED,
        },
        "lifecycle": {"rule": [rule_to_gcs(rule) for rule in rules]},
    }


def differences(resource: Mapping[str, Any], rules: list[LifecycleRule]) -> list[str]:
    """What of ``resource`` (a bucket as Cloud Storage returns it) differs from what the service
    needs: ``access`` (uniform access or public access prevention) and/or ``lifecycle``."""
    iam = resource.get("iamConfiguration", {})
    found: list[str] = []
    if not iam.get("uniformBucketLevelAccess", {}).get("enabled") or (
        iam.get("publicAccessPrevention") != ENFORCED
    ):
        found.append("access")
    # Every rule counts, one set by hand on another condition too (read as None): the bucket keeps
    # exactly the settings' rules.
    have = [rule_from_gcs(rule) for rule in resource.get("lifecycle", {}).get("rule", [])]
    if have != rules:
        found.append("lifecycle")
    return found


def resource(bucket: Bucket) -> dict[str, Any]:
    """The fields :func:`differences` reads, from the library's bucket."""
    return {
        "iamConfiguration": dict(bucket.iam_configuration),
        "lifecycle": {"rule": list(bucket.lifecycle_rules)},
    }


def apply(bucket: Bucket, rules: list[LifecycleRule], what: list[str]) -> None:
    """Set ``what`` (``access``, ``lifecycle``) on ``bucket`` through the library's setters, which
    mark exactly those fields for the next create or patch request."""
    if "access" in what:
        bucket.iam_configuration.uniform_bucket_level_access_enabled = True
        bucket.iam_configuration.public_access_prevention = ENFORCED
    if "lifecycle" in what:
        bucket.lifecycle_rules = [rule_to_gcs(rule) for rule in rules]


def describe(rules: list[LifecycleRule]) -> str:
    parts = []
    for rule in rules:
        if rule.action is LifecycleAction.DELETE:
            parts.append(f"deleted after {rule.age_days} days")
        else:
            parts.append(f"{rule.storage_class} after {rule.age_days} days")
    lifecycle = ", ".join(parts) if parts else "none (kept)"
    return f"uniform access, public access prevented, lifecycle: {lifecycle}"


class BucketsProvisioner:
    capability = CAPABILITY

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        assert settings.gcp_project_id  # Settings refuse a USE_* flag without it
        self._client = client or make_client(
            project=settings.gcp_project_id, emulator_host=settings.storage_emulator_host
        )
        self._location = settings.gcp_location
        self._remote = RemoteCall.from_settings("cloud-storage", settings, clock=SystemClock())
        self._buckets = Buckets.from_settings(settings)
        self._rules = rules_from_settings(settings)
        # gcp-storage-emulator drops a new bucket's iamConfiguration and lifecycle (it keeps them
        # from a patch): there a create is followed by a patch of the same fields. Google keeps them.
        self._patch_after_create = settings.storage_emulator_host is not None

    async def _call(self, what: str, work: Callable[[float], T]) -> T:
        async def attempt(timeout: float) -> T:
            return await asyncio.to_thread(work, timeout)

        return await call(self._remote, attempt, what=what, transient=is_transient)

    async def provision(self, *, dry_run: bool) -> list[Change]:
        return [
            await self._bucket(name, self._rules[kind], dry_run) for kind, name in self._buckets.names.items()
        ]

    async def _bucket(self, name: str, rules: list[LifecycleRule], dry_run: bool) -> Change:
        existing = await self._call(
            f"reading bucket {name}",
            lambda t: self._client.lookup_bucket(name, timeout=t, retry=None),
        )
        return await reconcile(
            CAPABILITY,
            "bucket",
            name,
            found=existing,
            create=lambda: self._create(name, rules),
            # The fields that differ, or None: an empty list is nothing to patch.
            differs=lambda bucket: differences(resource(bucket), rules) or None,
            update=lambda bucket, what: self._patch(bucket, rules, what),
            detail=describe(rules),
            dry_run=dry_run,
        )

    async def _create(self, name: str, rules: list[LifecycleRule]) -> None:
        bucket = self._client.bucket(name)
        apply(bucket, rules, ["access", "lifecycle"])

        def work(timeout: float) -> Bucket:
            try:
                return self._client.create_bucket(
                    bucket, location=self._location, timeout=timeout, retry=None
                )
            except api_exceptions.Conflict:
                # Not found by lookup, yet taken: bucket names are global, another project holds it.
                raise Misconfigured(
                    f"bucket name {name} is taken by another project: set STORAGE_BUCKET_PREFIX "
                    "to a prefix of your own"
                ) from None

        created = await self._call(f"creating bucket {name}", work)
        if self._patch_after_create:
            await self._patch(created, rules, ["access", "lifecycle"])

    async def _patch(self, bucket: Bucket, rules: list[LifecycleRule], what: list[str]) -> None:
        apply(bucket, rules, what)
        await self._call(
            f"updating bucket {bucket.name}",
            lambda t: bucket.patch(timeout=t, retry=None),
        )

    async def aclose(self) -> None:
        await asyncio.to_thread(self._client.close)
