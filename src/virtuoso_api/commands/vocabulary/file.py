"""``step-file``: upload a file, fetched from a URL, into a file input."""

from __future__ import annotations

from virtuoso_api.commands.vocabulary.payloads import guess, step
from virtuoso_api.commands.vocabulary.spec import Arg, Group, Values
from virtuoso_api.commands.vocabulary.validate import SELECTOR, URL
from virtuoso_api.virtuoso.steps import ParsedStep, StepAction

FILE = Group("step", "step-file", "Upload a file from a URL")

_ARGS = (
    Arg("selector", SELECTOR, "the file input"),
    Arg("url", URL, "where Virtuoso fetches the file (http or https; local paths are refused)"),
)


def _upload(values: Values) -> ParsedStep:
    return step(StepAction.UPLOAD, target=guess(values.text("selector")), value=values.text("url"))


@FILE.define("upload", args=_ARGS, example=("upload", "#resume", "https://example.com/cv.pdf"))
def upload(values: Values) -> ParsedStep:
    """Upload the file at a URL into a file input (``value`` is the URL)."""
    return _upload(values)


@FILE.define(
    "upload-url",
    aliases=("url",),
    args=_ARGS,
    example=("upload-url", "#avatar", "https://example.com/me.png"),
)
def upload_url(values: Values) -> ParsedStep:
    """Upload the file at a URL into a file input; the same step as upload."""
    return _upload(values)
