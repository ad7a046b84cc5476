"""Webhooks in the documents store, and a short memo of them for the delivery path.

Every event is matched against its owner's webhooks, and every attempt reads its webhook: without a
memo that is a store query per event and a read per attempt. Changes made in this process drop the
memo at once; a change made on another instance is seen within :data:`MEMO`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from virtuoso_api.infra.documents import DocumentStore, Filter, Op, Query, is_valid_doc_id
from virtuoso_api.kit.clock import Clock
from virtuoso_api.kit.recent import RecentValues
from virtuoso_api.webhooks.models import WEBHOOKS, Webhook

MEMO: Final = timedelta(seconds=2)
#: A caller's webhooks; more is refused at creation (each event fans out to all of them).
MAX_PER_OWNER: Final = 100


class WebhookDirectory:
    def __init__(self, store: DocumentStore, *, clock: Clock) -> None:
        self._store = store
        self._by_owner: RecentValues[str, list[Webhook]] = RecentValues(clock)
        self._by_id: RecentValues[str, Webhook] = RecentValues(clock)

    async def of_owner(self, owner: str, *, fresh: bool = False) -> list[Webhook]:
        """The owner's webhooks, newest first."""
        memo = None if fresh else self._by_owner.get(owner, max_age=MEMO)
        if memo is not None:
            return memo
        page = await self._store.query(
            Query(
                WEBHOOKS,
                filters=(Filter("owner", Op.EQ, owner),),
                order_by="created_at",
                descending=True,
                limit=MAX_PER_OWNER,
            )
        )
        hooks = [Webhook.model_validate(doc.data) for doc in page.documents]
        self._by_owner.put(owner, hooks)
        for hook in hooks:
            self._by_id.put(hook.webhook_id, hook)
        return hooks

    async def get(self, webhook_id: str, *, fresh: bool = False) -> Webhook | None:
        memo = None if fresh else self._by_id.get(webhook_id, max_age=MEMO)
        if memo is not None:
            return memo
        if not (webhook_id.startswith("wh_") and is_valid_doc_id(webhook_id)):
            return None
        document = await self._store.get(WEBHOOKS, webhook_id)
        if document is None:
            return None
        hook = Webhook.model_validate(document.data)
        self._by_id.put(webhook_id, hook)
        return hook

    async def everyone(self) -> list[Webhook]:
        """Every caller's webhooks, newest first (an administrator's listing; not memoised)."""
        hooks: list[Webhook] = []
        cursor: str | None = None
        while True:
            page = await self._store.query(
                Query(WEBHOOKS, order_by="created_at", descending=True, limit=500, cursor=cursor)
            )
            hooks += [Webhook.model_validate(doc.data) for doc in page.documents]
            if (cursor := page.next_cursor) is None:
                return hooks

    def forget(self, hook: Webhook) -> None:
        self._by_owner.discard(hook.owner)
        self._by_id.discard(hook.webhook_id)
