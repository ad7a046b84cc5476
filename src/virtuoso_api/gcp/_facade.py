"""What the seed's facade clients share: what they use opened on first use and kept until ``close``.

A client is built without I/O (the seed's getters return it at import time), opens what it needs on
its first call (once, however many calls race to be first) and closes it on :meth:`close` or at the
end of an ``async with`` block. Most clients open the whole service (:class:`ServicesClient`); the
secrets client opens only the secrets store. Use a client from one event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from virtuoso_api.config import Settings, load_settings
from virtuoso_api.kit.clock import Clock
from virtuoso_api.services import Services

Opened = TypeVar("Opened")
Client = TypeVar("Client", bound="FacadeClient[Any]")


class FacadeClient(Generic[Opened]):
    """Opens ``Opened`` (what :meth:`_opening` enters) on first use and keeps it until closed."""

    def __init__(self, settings: Settings | None = None, *, clock: Clock | None = None) -> None:
        self._settings = settings
        self._clock = clock
        self._stack: AsyncExitStack | None = None
        self._opened: Opened | None = None
        self._opening_lock = asyncio.Lock()

    @property
    def settings(self) -> Settings:
        """The settings given, else those of the environment (read when asked, never cached)."""
        return self._settings or load_settings()

    def _opening(self, settings: Settings) -> AbstractAsyncContextManager[Opened]:
        raise NotImplementedError

    async def _open(self) -> Opened:
        if self._opened is not None:
            return self._opened
        async with self._opening_lock:
            if self._opened is None:
                stack = AsyncExitStack()
                self._opened = await stack.enter_async_context(self._opening(self.settings))
                self._stack = stack
        return self._opened

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self._stack, self._opened = None, None

    async def __aenter__(self) -> Self:
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class ServicesClient(FacadeClient[Services]):
    """A client over the whole service (:meth:`Services.running`), as the HTTP API runs it."""

    #: Whether the opened services run their background work (periodic jobs, the local dispatcher).
    background: ClassVar[bool] = False

    def _opening(self, settings: Settings) -> AbstractAsyncContextManager[Services]:
        return Services.running(settings, clock=self._clock, background=self.background)


class OnePerProcess(Generic[Client]):
    """The process's client behind a seed getter: built on first ``get`` from the environment,
    closed and forgotten by ``close`` (the next ``get`` builds a new one)."""

    def __init__(self, make: Callable[[], Client]) -> None:
        self._make = make
        self._client: Client | None = None

    def get(self) -> Client:
        if self._client is None:
            self._client = self._make()
        return self._client

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.close()
