"""``virtuoso-api gcp bootstrap``: create, once, what the enabled ``USE_*`` flags need on Google Cloud.

One provisioner per capability (``plan.Provisioner``), registered in :data:`PROVISIONERS` under its
flag; a new capability (Cloud Storage's buckets) is one module and one line here. Each is imported
only when its flag is on: the Google libraries are the optional ``gcp`` extra.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from virtuoso_api.config import Settings
from virtuoso_api.gcp.bootstrap.plan import Action, Change, Provisioner

__all__ = [
    "PROVISIONERS",
    "Action",
    "BootstrapOptions",
    "Change",
    "Provisioner",
    "bootstrap",
    "provisioners_for",
]


@dataclass(frozen=True, slots=True)
class BootstrapOptions:
    project_number: str | None = None
    indexes: Path = Path("firestore.indexes.json")


def _tasks(settings: Settings, _: BootstrapOptions) -> Provisioner:
    from virtuoso_api.gcp.bootstrap.tasks import TasksProvisioner

    return TasksProvisioner(settings)


def _pubsub(settings: Settings, options: BootstrapOptions) -> Provisioner:
    from virtuoso_api.gcp.bootstrap.pubsub import PubSubProvisioner

    return PubSubProvisioner(settings, project_number=options.project_number)


def _secrets(settings: Settings, _: BootstrapOptions) -> Provisioner:
    from virtuoso_api.gcp.bootstrap.secrets import SecretsProvisioner

    return SecretsProvisioner(settings)


def _firestore(settings: Settings, options: BootstrapOptions) -> Provisioner:
    from virtuoso_api.gcp.bootstrap.firestore import FirestoreProvisioner

    return FirestoreProvisioner(settings, indexes=options.indexes)


#: (flag, factory) in the order they run: what the service reads first is made first.
PROVISIONERS: list[tuple[str, Callable[[Settings, BootstrapOptions], Provisioner]]] = [
    ("use_secret_manager", _secrets),
    ("use_firestore", _firestore),
    ("use_pubsub", _pubsub),
    ("use_cloud_tasks", _tasks),
]


def provisioners_for(settings: Settings, options: BootstrapOptions) -> list[Provisioner]:
    return [factory(settings, options) for flag, factory in PROVISIONERS if getattr(settings, flag)]


async def bootstrap(
    settings: Settings, options: BootstrapOptions, *, dry_run: bool, report: Callable[[Change], None]
) -> list[Change]:
    """Run every enabled provisioner in turn, reporting each change as it is made."""
    changes: list[Change] = []
    for provisioner in provisioners_for(settings, options):
        try:
            for change in await provisioner.provision(dry_run=dry_run):
                report(change)
                changes.append(change)
        finally:
            await provisioner.aclose()
    return changes
