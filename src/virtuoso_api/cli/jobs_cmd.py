"""``virtuoso-api jobs``: list, show, cancel and wait for jobs, straight from the configured store,
or through a deployed service (``VIRTUOSO_API_SERVER`` and ``VIRTUOSO_API_KEY``).

On the store the CLI is the operator's: it sees every user's jobs; through a service it sees what
its key may. It does not run them; a serving process does (``serve`` runs the local queue's
dispatcher, Cloud Tasks pushes to the service).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from virtuoso_api.jobs.models import Job

app = typer.Typer(help="List, show, cancel and wait for async jobs.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]
JobId = Annotated[str, typer.Argument(help="The job id, e.g. job_5d2776f59ef2fc3e.")]


def _line(job: Job) -> str:
    done, total = job.progress.done, job.progress.total
    started = f"{job.created_at:%Y-%m-%d %H:%M:%S}"
    return f"{job.job_id}  {job.kind.value:<7} {job.status.value:<9} {done}/{total}  {job.owner}  {started}"


def _show(job: Job) -> None:
    from virtuoso_api.cli._runtime import out

    out.print(_line(job))
    out.print(f"attempts {job.attempts} of {job.max_attempts}, queue {job.queue}")
    if job.error:
        out.print(f"error: {job.error.get('message', job.error)}")
    for item in (job.result or {}).get("results", []):
        detail = item.get("outcome") or item.get("error") or {}
        where = f"step {detail['step_id']} at position {detail['position']}" if "step_id" in detail else ""
        reason = detail.get("message", "") if item["status"] == "failed" else ""
        out.print(f"  [{item['index']}] {item['status']:<9} {where}{reason}")


@app.command("list")
def list_jobs(
    status: Annotated[
        str | None, typer.Option("--status", help="queued, running, succeeded, failed, cancelled")
    ] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="command, batch or suite")] = None,
    user: Annotated[str | None, typer.Option("--user", help="Only this user's jobs.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """Jobs, newest first."""
    from virtuoso_api.cli._jobs_backend import jobs_backend
    from virtuoso_api.cli._runtime import Exit, fail, out, print_json, run, settings_or_exit
    from virtuoso_api.jobs.models import JobKind, JobPage, JobStatus

    try:
        wanted_status = JobStatus(status) if status else None
        wanted_kind = JobKind(kind) if kind else None
    except ValueError as exc:
        fail(f"--status/--kind: {exc}", Exit.USAGE)

    async def work() -> JobPage:
        async with jobs_backend(settings_or_exit()) as jobs:
            return await jobs.list(owner=user, status=wanted_status, kind=wanted_kind, limit=limit)

    page = run(work())
    if as_json:
        print_json(page.model_dump(mode="json"))
        return
    if not page.jobs:
        out.print("No jobs.")
    for job in page.jobs:
        out.print(_line(job))


@app.command("show")
def show(job_id: JobId, as_json: JsonOption = False) -> None:
    """One job: status, progress, attempts, and each command's outcome."""
    from virtuoso_api.cli._jobs_backend import jobs_backend
    from virtuoso_api.cli._runtime import print_json, run, settings_or_exit

    async def work() -> Job:
        async with jobs_backend(settings_or_exit()) as jobs:
            return await jobs.get(job_id)

    job = run(work())
    if as_json:
        print_json(job.model_dump(mode="json"))
        return
    _show(job)


@app.command("cancel")
def cancel(job_id: JobId, as_json: JsonOption = False) -> None:
    """Cancel a queued job, or stop a running one before its next command (a suite's: step)."""
    from virtuoso_api.cli._jobs_backend import jobs_backend
    from virtuoso_api.cli._runtime import out, print_json, run, settings_or_exit
    from virtuoso_api.jobs.models import JobKind

    async def work() -> Job:
        async with jobs_backend(settings_or_exit()) as jobs:
            return await jobs.cancel(job_id)

    job = run(work())
    if as_json:
        print_json(job.model_dump(mode="json"))
        return
    # A suite job's units are its file's steps (and then its run); a batch's are its commands.
    unit = "step" if job.kind is JobKind.SUITE else "command"
    verb = "cancelled" if job.status.finished else f"asked to stop before its next {unit}"
    out.print(f"Job {job.job_id} {verb}.")


@app.command("wait")
def wait(
    job_id: JobId,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Give up after this many seconds.")
    ] = 600,
    interval: Annotated[float, typer.Option("--interval", min=0.05, max=60)] = 0.5,
    as_json: JsonOption = False,
) -> None:
    """Follow a job until it finishes, printing its progress; exits 1 unless it succeeded."""
    from virtuoso_api.cli._jobs_backend import jobs_backend
    from virtuoso_api.cli._runtime import Exit, err, fail, out, print_json, run, settings_or_exit
    from virtuoso_api.jobs.models import JobStatus

    async def work() -> Job:
        import asyncio

        async with jobs_backend(settings_or_exit()) as jobs:
            deadline = time.monotonic() + timeout
            seen = ""
            while True:
                job = await jobs.get(job_id)
                line = f"{job.status.value} {job.progress.done}/{job.progress.total}"
                if line != seen and not as_json:
                    err.print(f"{job.job_id}: {line} (attempt {job.attempts})")
                    seen = line
                if job.status.finished:
                    return job
                if time.monotonic() > deadline:
                    fail(f"job {job_id} is still {job.status.value} after {timeout:g}s", Exit.FAILURE)
                await asyncio.sleep(interval)

    job = run(work())
    if as_json:
        print_json(job.model_dump(mode="json"))
    else:
        _show(job)
    if job.status is not JobStatus.SUCCEEDED:
        if not as_json:
            out.print(f"Job {job.job_id} {job.status.value}.")
        raise typer.Exit(Exit.FAILURE)
