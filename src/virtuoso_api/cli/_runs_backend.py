"""Where ``runs start|status`` send their work: the service opened in this process (the stores and
Virtuoso), or a deployed service over HTTP (``VIRTUOSO_API_SERVER``). Both answer with the same
models, so the commands print and exit the same way."""

from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Sequence
from typing import Protocol

from virtuoso_api.api_keys.models import Principal, Scope
from virtuoso_api.cli.remote import RemoteService
from virtuoso_api.history.models import Source
from virtuoso_api.runs import RunRequest, RunView, StartedRuns, Verdict
from virtuoso_api.services import Services

OnUpdate = Callable[[RunView], None]
#: The longest ``?wait=`` the service takes (runs/endpoints.py MAX_WAIT_SECONDS); a longer wait is
#: several requests, each answer shown as progress.
_LONGEST_WAIT = 60.0


class RunsBackend(Protocol):
    async def start(self, request: RunRequest) -> StartedRuns: ...

    async def status(self, execution_id: int) -> RunView: ...

    async def wait(self, execution_id: int, *, timeout: float | None, on_update: OnUpdate) -> RunView: ...

    async def junit(self, views: Sequence[RunView]) -> str: ...


class LocalRuns:
    def __init__(self, services: Services, user: str) -> None:
        self.services = services  # for commands that need more of the service than its runs
        self._runs = services.runs
        self._caller = Principal(key_id="cli", user_id=user, name="cli", scopes=frozenset(Scope))

    async def start(self, request: RunRequest) -> StartedRuns:
        return await self._runs.start(self._caller, request, source=Source.CLI)

    async def status(self, execution_id: int) -> RunView:
        return await self._runs.status(execution_id)

    async def wait(self, execution_id: int, *, timeout: float | None, on_update: OnUpdate) -> RunView:
        return await self._runs.wait(execution_id, timeout=timeout, on_update=on_update)

    async def junit(self, views: Sequence[RunView]) -> str:
        return await self._runs.junit(views)


class RemoteRuns:
    def __init__(self, service: RemoteService) -> None:
        self._service = service

    async def start(self, request: RunRequest) -> StartedRuns:
        body = request.model_dump(mode="json", exclude_defaults=True)
        return StartedRuns.model_validate(await self._service.json("POST", "/runs", json=body))

    async def status(self, execution_id: int) -> RunView:
        return RunView.model_validate(await self._service.json("GET", f"/runs/{execution_id}"))

    async def wait(
        self,
        execution_id: int,
        *,
        timeout: float | None,
        on_update: OnUpdate,
        longest: float = _LONGEST_WAIT,
    ) -> RunView:
        """Held answers of at most ``longest`` seconds each (a minute; shorter for a bar that should
        move while the run does), until the run ends or ``timeout`` passes; each answer is
        progress, as the local poll loop's are."""
        deadline = math.inf if timeout is None else time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            hold = max(0.0, min(longest, left))
            answer = await self._service.json(
                "GET", f"/runs/{execution_id}", params={"wait": f"{hold:g}"}, timeout=hold + 60
            )
            view = RunView.model_validate(answer)
            on_update(view)
            if view.verdict is not Verdict.RUNNING or hold < longest:
                return view

    async def junit(self, views: Sequence[RunView]) -> str:
        """The service's JUnit XML per run, in one ``<testsuites>`` as the local report is."""
        documents = [
            (await self._service.call("GET", f"/runs/{view.execution_id}/junit")).text for view in views
        ]
        if len(documents) == 1:
            return documents[0]
        merged = ElementTree.Element("testsuites")
        for document in documents:
            root = ElementTree.fromstring(document)
            suites = [root] if root.tag == "testsuite" else list(root)
            merged.extend(suites)
        for total in ("tests", "failures", "errors", "skipped"):
            merged.set(total, str(sum(int(s.get(total, "0")) for s in merged)))
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(merged, encoding="unicode")
