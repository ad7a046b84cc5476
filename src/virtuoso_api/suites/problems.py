"""What is wrong with a suite file, where: every problem carries the file's line and the field's path.

A suite is refused as a whole with :class:`SuiteInvalid`, listing every problem found (not only the
first), so an author fixes a file in one pass. It is a ``validation_error`` (422) like any bad input.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from virtuoso_api.errors import VirtuosoApiError

#: A file with hundreds of bad steps is reported by its first problems; the count says how many more.
MAX_REPORTED_PROBLEMS: Final = 50


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: ``line`` (1-based, None when the file has no lines to point at), the field's path
    in the file (``steps[2].upload.file``; empty for the whole file) and what is wrong."""

    line: int | None
    field: str
    message: str

    def located(self, source: str) -> str:
        """``suite.yaml:8: steps[2].upload.file: must be ...``, the form editors and CI logs link."""
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_detail(self) -> dict[str, object]:
        return {"field": self.field or "body", "line": self.line, "reason": self.message}


class StepProblem(Exception):
    """Raised while reading one step or one header field; collected into :class:`SuiteInvalid`."""

    def __init__(self, line: int | None, field: str, message: str) -> None:
        super().__init__(message)
        self.problem = Problem(line, field, message)


class SuiteInvalid(VirtuosoApiError):
    """The suite cannot be run as written; ``problems`` says every place and reason."""

    status_code = 422
    error_type = "validation_error"

    def __init__(self, source: str, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("a refused suite has at least one problem")
        shown = problems[:MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        message = shown[0].located(source)
        if len(problems) > 1:
            message += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
        details: list[dict[str, object]] = [problem.as_detail() for problem in shown]
        if more:
            details.append({"field": "body", "line": None, "reason": f"{more} more problems not shown"})
        super().__init__(message, details=details)
        self.source = source
        self.problems = problems
