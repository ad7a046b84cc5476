"""Secret Manager: the secrets the service reads, named for the environment
(``{ENVIRONMENT}-{type}``). The webhook sealing key is generated here, so an identity that may only
read secrets (the service's, deploy/iam.md) finds it; Virtuoso's token is the operator's to store:
bootstrap says how, and never invents one."""

from __future__ import annotations

import contextlib
import functools
from typing import Final

from virtuoso_api.config import Settings
from virtuoso_api.gcp.bootstrap.plan import Action, Change, reconcile
from virtuoso_api.kit.clock import SystemClock
from virtuoso_api.secrets import SecretsService, SecretType
from virtuoso_api.services.secrets import build_secrets_service

CAPABILITY = "Secret Manager"
GENERATED: Final = (SecretType.WEBHOOK_SEALING_KEY,)
FROM_THE_OPERATOR: Final = (SecretType.VIRTUOSO_API_KEY,)


class SecretsProvisioner:
    capability = CAPABILITY

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._stack = contextlib.AsyncExitStack()
        self._service: SecretsService | None = None

    async def _secrets(self) -> SecretsService:
        if self._service is None:
            self._service = await self._stack.enter_async_context(
                build_secrets_service(self._settings, clock=SystemClock())
            )
        return self._service

    async def provision(self, *, dry_run: bool) -> list[Change]:
        secrets = await self._secrets()
        changes = []
        for kind in GENERATED:
            ref = secrets.ref(kind)
            change = await reconcile(
                CAPABILITY,
                "secret",
                ref.secret_id,
                found=await secrets.find(ref),
                create=functools.partial(secrets.ensure, ref),
                detail="a generated key",
                dry_run=dry_run,
            )
            changes.append(change)
        for kind in FROM_THE_OPERATOR:
            ref = secrets.ref(kind)
            if await secrets.find(ref) is not None:
                changes.append(Change(CAPABILITY, "secret", ref.secret_id, Action.KEEP))
                continue
            how = (
                f"store Virtuoso's token: virtuoso-api secrets set {kind.value} "
                f"(with ENVIRONMENT={self._settings.environment.value} and USE_SECRET_MANAGER=true)"
            )
            changes.append(Change(CAPABILITY, "secret", ref.secret_id, Action.MANUAL, how))
        return changes

    async def aclose(self) -> None:
        await self._stack.aclose()
