"""Which parts of a :class:`Query` Firestore runs, and which the adapter applies to what comes back.

Firestore orders a query with a range filter by that field first: a range on a field other than
``order_by`` (or any range when ordering by document id) is refused ("order by clause cannot contain
more fields after the key") or changes the order the port promises. Such ranges are applied here
instead, which can make a page short, as the port allows. Equality filters always run in Firestore,
and with an equality on the ``order_by`` field every match has the same value, so Firestore orders by
document id alone (some Firestore versions refuse ordering by a field under equality).

Comparisons keep Firestore's typing, so a client-side filter and a server-side one agree: values of
different kinds (booleans, numbers, strings) never match each other, and ``1 == 1.0``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from virtuoso_api.infra.documents.port import Filter, JsonObject, Op, Query

_COMPARE: Final[dict[Op, Callable[[Any, Any], bool]]] = {
    Op.EQ: operator.eq,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.GT: operator.gt,
    Op.GE: operator.ge,
}

_MISSING: Final = object()


@dataclass(frozen=True, slots=True)
class QueryPlan:
    """The filters and order Firestore runs, and the filters applied to what it returns."""

    server_filters: tuple[Filter, ...]
    client_filters: tuple[Filter, ...]
    #: The field Firestore orders by before the document id; ``None`` orders by document id only.
    server_order: str | None


def plan_query(query: Query) -> QueryPlan:
    order = query.order_by
    pinned = order is not None and any(f.field == order and f.op is Op.EQ for f in query.filters)
    server_order = None if pinned else order
    server: list[Filter] = []
    client: list[Filter] = []
    for item in query.filters:
        if item.op is Op.EQ or (server_order is not None and item.field == server_order):
            server.append(item)
        else:
            client.append(item)
    return QueryPlan(tuple(server), tuple(client), server_order)


def _kind(value: object) -> str | None:
    if isinstance(value, bool):  # before int: bool is an int in Python, not in Firestore
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def matches(data: JsonObject, filters: tuple[Filter, ...]) -> bool:
    for item in filters:
        value = data.get(item.field, _MISSING)
        kind = _kind(value)
        if kind is None or kind != _kind(item.value):
            return False
        if not _COMPARE[item.op](value, item.value):
            return False
    return True
