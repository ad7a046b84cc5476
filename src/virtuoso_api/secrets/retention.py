"""Which versions of a secret to retire after a rotation: a rule on a list, decided without I/O.

- The newest version is never touched: it is the one in use.
- An older version stays enabled for ``grace`` after the version that superseded it (the next newer
  one) was added, so an instance still holding it keeps working until its cache expires; then it is
  disabled (reversible: ``enable`` brings it back).
- Only the ``keep`` newest versions are kept; an older one is destroyed once its grace has passed
  too (destroying cannot be undone, so never sooner).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from virtuoso_api.infra.secrets import VersionInfo, VersionState


@dataclass(frozen=True)
class Retirement:
    disable: list[int] = field(default_factory=list)
    destroy: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.disable or self.destroy)


def plan_retirement(versions: list[VersionInfo], *, now: datetime, grace: timedelta, keep: int) -> Retirement:
    ordered = sorted(versions, key=lambda version: version.number, reverse=True)
    plan = Retirement()
    for index, version in enumerate(ordered):
        if index == 0 or version.state is VersionState.DESTROYED:
            continue
        superseded_at = ordered[index - 1].created_at
        if now < superseded_at + grace:
            continue
        if index >= keep:
            plan.destroy.append(version.number)
        elif version.state is VersionState.ENABLED:
            plan.disable.append(version.number)
    return plan
