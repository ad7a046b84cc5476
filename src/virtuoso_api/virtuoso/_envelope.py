"""Virtuoso's response envelope, read in one place.

Most answers are ``{"success", "item" | "items" | "map", "error"}``; ``error`` is a string or
``{code, message}``; ``map`` is keyed by id; a few endpoints (and ``?envelope=false``) answer a bare
object instead. :func:`parse_envelope` accepts all of these and :meth:`Envelope.one` /
:meth:`Envelope.many` turn them into typed models, raising :class:`VirtuosoProtocolError` when the
shape is not what the endpoint promises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from virtuoso_api.virtuoso.errors import VirtuosoProtocolError

M = TypeVar("M", bound=BaseModel)

_ENVELOPE_KEYS = frozenset({"success", "item", "items", "map", "error"})


@dataclass(frozen=True)
class UpstreamError:
    message: str
    code: str | None = None


@dataclass(frozen=True)
class Envelope:
    """A decoded answer. ``request`` (e.g. ``"GET /projects"``) names it in error messages."""

    request: str
    body: Any
    success: bool | None = None
    item: Any = None
    items: list[Any] | None = None
    map: dict[str, Any] | None = None
    error: UpstreamError | None = None

    @property
    def failed(self) -> bool:
        """``success: false``, or an error with no ``success: true`` beside it."""
        return self.success is False or (self.error is not None and self.success is not True)

    def one_raw(self) -> dict[str, Any]:
        """The single object: ``item`` when present, else the bare body."""
        if isinstance(self.item, dict):
            return self.item
        if isinstance(self.body, dict) and self.item is None:
            return {key: value for key, value in self.body.items() if key not in _ENVELOPE_KEYS}
        raise VirtuosoProtocolError(
            f"Virtuoso answered {self.request} without an object", request=self.request
        )

    def many_raw(self) -> list[dict[str, Any]]:
        """``items``, or the values of ``map`` in id order, or an ``item`` that is a list; else empty."""
        if self.items is not None:
            found: list[Any] = self.items
        elif self.map is not None:
            found = sorted(self.map.values(), key=_id_order)
        elif isinstance(self.item, list):
            found = self.item
        else:
            found = []
        if not all(isinstance(entry, dict) for entry in found):
            raise VirtuosoProtocolError(
                f"Virtuoso answered {self.request} with a list of non-objects", request=self.request
            )
        return found

    def one(self, model: type[M]) -> M:
        return self.validate(model, self.one_raw())

    def many(self, model: type[M]) -> list[M]:
        return [self.validate(model, entry) for entry in self.many_raw()]

    def validate(self, model: type[M], data: Any) -> M:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or model.__name__}: {error['msg']}"
                for error in exc.errors(include_url=False)[:3]
            )
            raise VirtuosoProtocolError(
                f"Virtuoso answered {self.request} with an unexpected {model.__name__}: {problems}",
                request=self.request,
            ) from None


def _id_order(entry: Any) -> tuple[int, str]:
    # Ids are integers in Virtuoso, but keep a stable order for anything else.
    raw = entry.get("id") if isinstance(entry, dict) else None
    if isinstance(raw, int) and not isinstance(raw, bool):
        return (0, f"{raw:020d}")
    return (1, str(raw))


def parse_envelope(body: Any, *, request: str) -> Envelope:
    """Read a decoded JSON body (``None`` for an empty one) as an :class:`Envelope`."""
    if not isinstance(body, dict):
        items = body if isinstance(body, list) else None
        return Envelope(request=request, body=body, items=items)
    success = body.get("success")
    items = body.get("items")
    mapping = body.get("map")
    return Envelope(
        request=request,
        body=body,
        success=success if isinstance(success, bool) else None,
        item=body.get("item"),
        items=items if isinstance(items, list) else None,
        map=mapping if isinstance(mapping, dict) else None,
        error=read_error(body),
    )


def read_error(body: Any) -> UpstreamError | None:
    """Virtuoso's error from a body: ``error`` as a string or ``{code, message}``, else ``message``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, str) and error:
        return UpstreamError(message=error)
    if isinstance(error, dict):
        message = error.get("message") or error.get("error") or ""
        code = error.get("code")
        return UpstreamError(
            message=str(message) or str(code or "error"), code=None if code is None else str(code)
        )
    # Gateways and some endpoints answer {"message": ...} or {"detail": ...} with no envelope. A bare
    # object with an id (``?envelope=false``) is an answer even when it carries a message: a started
    # run's answer must not read as a refusal.
    if "id" in body:
        return None
    for key in ("message", "detail"):
        value = body.get(key)
        if isinstance(value, str) and value and body.get("success") is not True:
            return UpstreamError(message=value)
    return None


def created_id_holder(body: Any) -> dict[str, Any] | None:
    """The object that carries a created step's id: ``item``, then ``testStep``, then the body itself.

    An id of 0 counts as absent (the original client treated ``item.id == 0`` as "not this shape").
    """
    if not isinstance(body, dict):
        return None
    for candidate in (body.get("item"), body.get("testStep"), body):
        if isinstance(candidate, dict):
            raw = candidate.get("id")
            if isinstance(raw, int) and not isinstance(raw, bool) and raw > 0:
                return candidate
            if isinstance(raw, str) and raw.isdigit() and int(raw) > 0:
                return candidate
    return None
