"""What the seed's facade clients share: the service opened on first use and kept until ``close``.

A client is built without I/O (the seed's getters return it at import time), opens the services on
its first call (once, however many calls race to be first) and closes them on :meth:`close` or at
the end of an ``async with`` block. Use a client from one event loop.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from types import TracebackType
from typing import ClassVar, Self

from virtuoso_api.config import Settings, load_settings
from virtuoso_api.kit.clock import Clock
from virtuoso_api.services import Services


class FacadeClient:
    #: Whether the opened services run their background work (periodic jobs, the local dispatcher).
    background: ClassVar[bool] = False

    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None) -> None:
        self._settings = settings
        self._clock = clock
        self._stack: AsyncExitStack | None = None
        self._services: Services | None = None
        self._opening = asyncio.Lock()

    @property
    def settings(self) -> Settings:
        """The settings given, else those of the environment (read when asked, never cached)."""
        return self._settings or load_settings()

    async def _open(self) -> Services:
        if self._services is not None:
            return self._services
        async with self._opening:
            if self._services is None:
                stack = AsyncExitStack()
                self._services = await stack.enter_async_context(
                    Services.running(self.settings, clock=self._clock, background=self.background)
                )
                self._stack = stack
        return self._services

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self._stack, self._services = None, None

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
