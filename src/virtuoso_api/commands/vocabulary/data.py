"""``step-data``: store values in variables and manage cookies."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import guess, step
from virtuoso_api.commands.vocabulary.spec import Arg, Flag, Group, Values
from virtuoso_api.commands.vocabulary.validate import (
    ATTRIBUTE,
    COOKIE_DOMAIN,
    COOKIE_NAME,
    COOKIE_PATH,
    COOKIE_VALUE,
    SELECTOR,
    TEXT,
    VARIABLE,
)
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction, Target

DATA = Group("step", "step-data", "Store values in variables, manage cookies")

_SELECTOR = Arg("selector", SELECTOR, "the element to read")
_INTO = Arg("variable", VARIABLE, "the variable to store into ($ optional)")
_COOKIE = Arg("name", COOKIE_NAME, "the cookie name")


def _store(
    values: Values, *, target: Target | None = None, value: str = "", meta: dict[str, object] | None = None
) -> ParsedStep:
    return step(StepAction.STORE, target=target, value=value, variable=values.text("variable"), meta=meta)


def _cookie(kind: str, *, value: str = "", meta: dict[str, object] | None = None) -> ParsedStep:
    return step(StepAction.ENVIRONMENT, value=value, meta={"type": kind, **(meta or {})})


@DATA.define(
    "store",
    "element-text",
    args=(_SELECTOR, _INTO),
    example=("store", "element-text", "#order-id", "orderId"),
)
def store_element_text(values: Values) -> ParsedStep:
    """Store an element's visible text in a variable.

    ``meta`` is empty, as the original sent it; element-value is told apart by ``meta.type``.
    """
    return _store(values, target=guess(values.text("selector")))


@DATA.define(
    "store",
    "element-value",
    args=(_SELECTOR, _INTO),
    example=("store", "element-value", "#email", "email"),
)
def store_element_value(values: Values) -> ParsedStep:
    """Store a form field's value in a variable.

    ``meta`` is ``{"type": "ELEMENT_VALUE"}``; the original sent the element-text payload unchanged, so both
    stored the visible text.
    """
    return _store(values, target=guess(values.text("selector")), meta={"type": "ELEMENT_VALUE"})


@DATA.define(
    "store",
    "attribute",
    args=(_SELECTOR, Arg("attribute", ATTRIBUTE, "the attribute to read, e.g. href"), _INTO),
    example=("store", "attribute", "a.download", "href", "downloadUrl"),
)
def store_attribute(values: Values) -> ParsedStep:
    """Store an element's attribute in a variable (``meta.attribute`` names it)."""
    return _store(values, target=guess(values.text("selector")), meta={"attribute": values.text("attribute")})


@DATA.define(
    "store",
    "literal",
    args=(Arg("value", TEXT, "the value to store (numbers stay values)"), _INTO),
    example=("store", "literal", "123", "quantity"),
)
def store_literal(values: Values) -> ParsedStep:
    """Store a fixed value in a variable.

    A numeric VALUE such as ``123`` is the value; the original could take it for a checkpoint id.
    """
    return _store(values, value=values.text("value"))


@DATA.define(
    "cookie",
    "create",
    args=(_COOKIE, Arg("value", COOKIE_VALUE, "the cookie value")),
    flags=(
        Flag("domain", "the cookie's domain (default: the page's)", COOKIE_DOMAIN),
        Flag("path", "the cookie's path", COOKIE_PATH, default="/"),
        Flag("secure", "send only over HTTPS"),
        Flag("http-only", "hide from page scripts"),
    ),
    example=("cookie", "create", "session", "abc123", "--secure"),
)
def cookie_create(values: Values) -> ParsedStep:
    """Set a cookie.

    ``meta`` holds type ADD, name and path (default ``/``); domain, secure and httpOnly only when given.
    """
    meta: dict[str, object] = {"name": values.text("name"), "path": values.text("path")}
    domain = values.optional("domain", str)
    if domain is not None:
        meta["domain"] = domain
    if values.switch("secure"):
        meta["secure"] = True
    if values.switch("http-only"):
        meta["httpOnly"] = True
    return _cookie("ADD", value=values.text("value"), meta=meta)


@DATA.define("cookie", "delete", args=(_COOKIE,), example=("cookie", "delete", "session"))
def cookie_delete(values: Values) -> ParsedStep:
    """Delete a cookie by name."""
    return _cookie("DELETE", meta={"name": values.text("name")})


@DATA.define("cookie", "clear-all", example=("cookie", "clear-all"))
def cookie_clear_all(values: Values) -> ParsedStep:
    """Delete every cookie."""
    del values
    return _cookie("CLEAR")
