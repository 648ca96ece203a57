"""Batch planning: every district file in a folder, every shift, on a Dask cluster.

:func:`run` makes one plan per district file (``*.toml``, see :mod:`patrolplan.config`) and
shift, on Dask distributed: by default a local cluster of processes, one worker per core and
one thread each; with `scheduler` an existing cluster through the same code path. The plan
date is the same for every file, or each file's own ``[plan]`` date.

- A plan that fails (a broken district file, a missing input, an infeasible shift, any
  exception) is reported and the others go on. The result holds one row per plan (district,
  shift, status ``ok``/``failed``/``skipped``, seconds, error line, output folder), also
  written to ``batch_report.json`` in the output folder.
- Each plan goes into ``OUT/<district>/<date>_<HHMM>_<minutes>min/``, written atomically by
  :func:`patrolplan.plan.write_plan`, then its log as ``plan.log`` and last a marker,
  ``batch.json``, that records the request (options, file hashes, version). A re-run skips a
  plan whose folder holds ``report.json`` and a marker of the same request.
- Street graphs are built first, one task per distinct extract that is not cached yet (and
  the route search is compiled once); the plans depend on those tasks and read the graph
  cache, so no worker parses an extract another is parsing.
- The longest plans start first (a guess from the input sizes, officers and shift), so the
  short ones fill the end and no worker waits long for the last plan.
- Each plan's log lines and warnings are captured on its worker, never printed there.

The fixed cost of a batch is kept small: the workers of a local cluster are forked from a
server that imported the planning modules once, started while the district files are read
(:func:`_local_config`), and closing the cluster then takes well under a second. The report
records where the time went (``timings``, and each plan's ``started_s``).

Examples
--------
>>> parse_shifts("08:00/4h,18:00/4h")
[('08:00', '4h'), ('18:00', '4h')]
>>> result = run("districts/", date="2016-06-19", out="plans/")  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import resource
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from patrolplan import settings
from patrolplan._errors import InputDataError, PatrolPlanError
from patrolplan._progress import Progress
from patrolplan.i18n import _, format_number, ngettext
from patrolplan.options import parse_clock, parse_date, parse_duration_min
from patrolplan.request import PlanRequest
from patrolplan.utils import (
    _exit_on_signals,
    _Interrupted,
    _remove_stale_parts,
    atomic_write_text,
    check_input_file,
    check_output_dir,
    file_sha256,
    log,
)

if TYPE_CHECKING:
    import pandas as pd
    from distributed import Client

    from patrolplan.config import District

__all__ = [
    "DEFAULT_SHIFTS",
    "MARKER",
    "REPORT",
    "BatchResult",
    "PlanOutcome",
    "parse_shifts",
    "run",
]

#: Shifts planned when none are given: ``(start, length)``.
DEFAULT_SHIFTS: tuple[tuple[str, str], ...] = (("08:00", "4h"), ("18:00", "4h"))

#: Marker written last into a finished plan folder; it records the request.
MARKER = "batch.json"

#: Summary of a batch, written into its output folder.
REPORT = "batch_report.json"

#: Version of the marker's request record; bump when its content changes.
_MARKER_FORMAT = 2

#: Seconds to wait for at least one worker of an existing cluster.
_WORKER_TIMEOUT_S = 120

#: Modules a worker needs for a plan, imported before the first one (see :func:`_local_config`):
#: the whole pipeline, and the compiled route search (numba).
_PRELOAD = ("patrolplan.plan", "patrolplan._top")

Status = Literal["ok", "failed", "skipped"]


@dataclass(frozen=True)
class PlanOutcome:
    """What became of one plan of a batch.

    Attributes
    ----------
    district
        District name (the file name without ``.toml``).
    shift
        ``start/length`` as requested, e.g. ``18:00/4h``.
    status
        ``ok`` (planned and written), ``failed`` or ``skipped`` (complete from an earlier run).
    seconds
        Time spent on the plan (0 when skipped).
    error
        One line saying why the plan failed; empty otherwise.
    folder
        The plan's output folder (it exists only when the plan is complete).
    worker
        Address of the worker that ran it; empty when it did not reach one.
    peak_rss_mb
        Peak resident memory of that worker's process so far, MB.
    log
        The plan's log lines (kept for failed plans; ok plans have them in ``plan.log``).
    started
        When the plan started on its worker, seconds since the epoch (0 when it did not).
    """

    district: str
    shift: str
    status: Status
    seconds: float = 0.0
    error: str = ""
    folder: Path | None = None
    worker: str = ""
    peak_rss_mb: float | None = None
    log: tuple[str, ...] = ()
    started: float = 0.0


@dataclass(frozen=True)
class BatchResult:
    """Every plan of a batch, in district and shift order.

    Attributes
    ----------
    plans
        One outcome per district file and shift.
    out
        The batch's output folder.
    report
        Path of ``batch_report.json``.
    seconds
        Wall time of the whole batch.
    workers
        Workers the cluster had (0 when nothing needed one).
    timings
        Seconds spent reading the district files (``prepare_s``), starting or reaching the
        cluster (``cluster_s``) and closing it (``close_s``); the last two only when a plan
        needed a worker.
    started
        When the batch started, seconds since the epoch (see :attr:`PlanOutcome.started`).
    """

    plans: tuple[PlanOutcome, ...]
    out: Path
    report: Path
    seconds: float
    workers: int = 0
    timings: Mapping[str, float] = field(default_factory=dict)
    started: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no plan failed (skipped plans count as done)."""
        return all(p.status != "failed" for p in self.plans)

    @property
    def counts(self) -> dict[str, int]:
        """Number of plans per status."""
        return {s: sum(p.status == s for p in self.plans) for s in ("ok", "failed", "skipped")}

    def table(self) -> pd.DataFrame:
        """Return the summary table: one row per plan.

        Returns
        -------
        pandas.DataFrame
            ``district``, ``shift``, ``status``, ``seconds``, ``error``, ``folder`` (relative to
            :attr:`out`; empty for a failed plan).
        """
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "district": p.district,
                    "shift": p.shift,
                    "status": p.status,
                    "seconds": round(p.seconds, 1),
                    "error": p.error,
                    "folder": _relative(p.folder, self.out) if p.status != "failed" else "",
                }
                for p in self.plans
            ],
            columns=["district", "shift", "status", "seconds", "error", "folder"],
        )

    def summary(self) -> str:
        """Return the summary table and the counts as text, for a terminal.

        Returns
        -------
        str
            The table, then one line of counts and wall time.
        """
        from patrolplan.i18n import get_language

        c = self.counts
        table = self.table()
        if get_language() != "en":
            statuses = {"ok": _("ok"), "failed": _("failed"), "skipped": _("skipped")}
            table["status"] = table["status"].map(statuses)
            table["seconds"] = [format_number(v, decimals=1) for v in table["seconds"]]
            table.columns = [
                _("district"),
                _("shift"),
                _("status"),
                _("seconds"),
                _("error"),
                _("folder"),
            ]
        counts = _(
            "{n} plans: {ok} ok, {failed} failed, {skipped} skipped in {seconds} s on {workers} "
            "workers"
        ).format(
            n=len(self.plans),
            ok=c["ok"],
            failed=c["failed"],
            skipped=c["skipped"],
            seconds=format_number(self.seconds, decimals=1),
            workers=self.workers,
        )
        return f"{table.to_string(index=False)}\n\n{counts}"


@dataclass(frozen=True)
class _Job:
    """One plan to make on a worker: everything it needs, all plain and picklable."""

    plan: PlanRequest
    name: str
    shift: str
    folder: Path
    request: dict[str, Any] = field(repr=False)
    db: str | None = None


@dataclass(frozen=True)
class _Prepared:
    """Result of a build-first task: a graph cache or the compiled route search."""

    what: str
    seconds: float
    error: str = ""
    log: tuple[str, ...] = ()


def parse_shifts(text: str) -> list[tuple[str, str]]:
    """Parse shifts written ``START/LENGTH`` and separated by commas.

    Parameters
    ----------
    text
        For example ``"08:00/4h,18:00/4h"``.

    Returns
    -------
    list of tuple
        ``(start, length)`` per shift.

    Raises
    ------
    InputDataError
        If a shift is not ``HH:MM/duration``.

    Examples
    --------
    >>> parse_shifts("06:00/8h, 22:00/90m")
    [('06:00', '8h'), ('22:00', '90m')]
    """
    shifts: list[tuple[str, str]] = []
    for part in str(text).split(","):
        start, sep, length = part.strip().partition("/")
        if not sep or not start or not length:
            msg = _(
                "`shifts` must be START/LENGTH pairs such as 08:00/4h,18:00/4h; got {part}"
            ).format(part=repr(part))
            raise InputDataError(msg)
        shifts.append((start.strip(), length.strip()))
    _check_shifts(shifts)
    return shifts


def _check_shifts(shifts: Sequence[tuple[str, str]]) -> list[tuple[str, float]]:
    """Check every shift; return ``(HH:MM, minutes)`` per shift."""
    if not shifts:
        msg = _("`shifts` must name at least one shift")
        raise InputDataError(msg)
    checked: list[tuple[str, float]] = []
    for start, length in shifts:
        h, m = parse_clock(start)
        checked.append((f"{h:02d}:{m:02d}", parse_duration_min(length)))
    if len(set(checked)) < len(checked):
        msg = _("`shifts` lists the same shift twice: {shifts}").format(shifts=list(shifts))
        raise InputDataError(msg)
    return checked


def run(
    districts_dir: str | Path,
    *,
    date: str | None,
    shifts: Sequence[tuple[str, str]] = DEFAULT_SHIFTS,
    out: str | Path,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    cache_dir: str | Path | None = None,
    to_db: str | None = None,
) -> BatchResult:
    """Plan every district file of a folder for every shift, on a Dask cluster.

    Parameters
    ----------
    districts_dir
        Folder of district files (``*.toml``; see :func:`patrolplan.config.load_config`).
    date
        Plan date ``YYYY-MM-DD`` for every plan. None: each file's own ``[plan]`` date (the
        plans of a file without one fail).
    shifts
        ``(start, length)`` of each shift, e.g. ``[("08:00", "4h"), ("18:00", "4h")]``. They
        replace the ``start`` and ``shift`` of each file's ``[plan]``.
    out
        Output folder: one subfolder per district, one per shift inside it, and
        ``batch_report.json``.
    scheduler
        Address of a running Dask scheduler (``tcp://host:8786``). None: start a local cluster
        of processes, one thread each. The workers must see the district files, the inputs,
        `out` and `cache_dir` at the same paths.
    workers
        Workers of the local cluster; default one per core. Only without `scheduler`.
    progress
        Show progress: a bar on a terminal, else one log line per finished plan.
    cache_dir
        Graph cache folder; default :data:`patrolplan.settings.cache_dir`.
    to_db
        Also store every plan in this PostGIS database (:func:`patrolplan.store.write_plan`);
        default each district file's ``[output] db``, if any.

    Returns
    -------
    BatchResult
        One outcome per district file and shift; ``result.ok`` is False when any plan failed.

    Raises
    ------
    InputDataError
        If the folder holds no district file, or `date`, `shifts` or `workers` are wrong.
    PatrolPlanError
        If `out` cannot be written or the scheduler cannot be reached. A failing plan never
        raises: it is reported in the result.
    ImportError
        If dask distributed is not installed.
    """
    t_start = time.perf_counter()
    folder = Path(districts_dir)
    if not folder.is_dir():
        msg = _("`districts_dir` {folder} is not a folder").format(folder=folder)
        raise InputDataError(msg)
    files = sorted(folder.glob("*.toml"))
    if not files:
        msg = _("`districts_dir` {folder} holds no district file (*.toml)").format(folder=folder)
        raise InputDataError(msg)
    day = parse_date(str(date), what="date").isoformat() if date is not None else None
    checked = _check_shifts(shifts)
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        msg = _("`workers` must be at least 1, got {workers}").format(workers=repr(workers))
        raise InputDataError(msg)
    if workers is not None and scheduler is not None:
        msg = _(
            "`workers` sets the size of the local cluster; with `scheduler` the cluster decides"
        )
        raise InputDataError(msg)
    out_dir = check_output_dir(out).resolve()
    cache = Path(cache_dir if cache_dir is not None else settings.cache_dir).resolve()
    distributed = _import_distributed()
    if scheduler is None:
        # the workers' modules load in the fork server while the district files are read
        _start_fork_server(distributed)

    # District files are read here, so a broken one fails at once and costs no worker.
    outcomes: dict[tuple[str, str], PlanOutcome] = {}
    todo: list[_Job] = []
    order: list[tuple[str, str]] = []
    hashes: dict[Path, str | None] = {}
    for path in files:
        name = path.stem
        labels = [f"{start}/{length}" for start, length in shifts]
        order += [(name, label) for label in labels]
        try:
            _check_name(path)
            check_input_file(path, what=_("district file"))
            district = _load_district(path.resolve())
        except Exception as exc:
            for label in labels:
                outcomes[name, label] = PlanOutcome(name, label, "failed", error=_error_line(exc))
            continue
        for label, (start, minutes), (_start, length) in zip(labels, checked, shifts, strict=True):
            sub = None
            try:
                given: dict[str, Any] = {"date": day} if day is not None else {}
                plan_request = PlanRequest.build(district, **given, start=start, shift=length)
                opts = plan_request.options
                if opts.date is None:
                    msg = _(
                        "{path}: no plan date: give `date`, or `date` in the file's [plan]"
                    ).format(path=path)
                    raise InputDataError(msg)
                sub = out_dir / name / f"{opts.date}_{start.replace(':', '')}_{minutes:g}min"
                _check_inputs(plan_request, path)
                request = _request(plan_request, name, hashes)
            except Exception as exc:
                outcomes[name, label] = PlanOutcome(
                    name, label, "failed", error=_error_line(exc), folder=sub
                )
                continue
            if _is_complete(sub, request):
                outcomes[name, label] = PlanOutcome(name, label, "skipped", folder=sub)
                continue
            todo.append(_Job(plan_request, name, label, sub, request, to_db or district.db))

    total = len(order)
    bar = _Progress(total, enabled=progress)
    for key in order:
        if key in outcomes:
            bar.update(outcomes[key])
    n_workers = 0
    prepared: list[_Prepared] = []
    what = _("Batch {day}").format(day=day) if day else _("Batch")
    timings = {"prepare_s": time.perf_counter() - t_start}
    interrupted: BaseException | None = None
    if todo:
        t_cluster = time.perf_counter()
        t_close = t_cluster
        try:
            # SIGTERM and SIGHUP end the batch as Ctrl-C does: the cluster closes, the plans
            # in flight leave nothing behind and the report says which were not made
            with _exit_on_signals(), _client(distributed, scheduler, workers) as client:
                timings["cluster_s"] = time.perf_counter() - t_cluster
                n_workers = len(client.scheduler_info().get("workers", {}))
                log(
                    _("{what}: {n} plans to make on {workers} workers").format(
                        what=what, n=len(todo), workers=n_workers
                    ),
                    settings.NOTICE,
                )
                for outcome in _run_on(client, distributed, todo, cache, prepared):
                    outcomes[outcome.district, outcome.shift] = outcome
                    bar.update(outcome)
                t_close = time.perf_counter()
        except (KeyboardInterrupt, _Interrupted) as exc:
            interrupted = exc
            for job in todo:
                _remove_stale_parts(job.folder)
                if (job.name, job.shift) not in outcomes:
                    outcomes[job.name, job.shift] = PlanOutcome(
                        job.name, job.shift, "failed", error=_("interrupted"), folder=job.folder
                    )
        timings["close_s"] = time.perf_counter() - t_close
    bar.close()
    result = BatchResult(
        plans=tuple(outcomes[key] for key in order),
        out=out_dir,
        report=out_dir / REPORT,
        seconds=time.perf_counter() - t_start,
        workers=n_workers,
        timings={k: round(v, 3) for k, v in timings.items()},
        started=time.time() - (time.perf_counter() - t_start),
    )
    _write_report(
        result,
        day=day,
        shifts=shifts,
        districts_dir=folder,
        scheduler=scheduler,
        prepared=prepared,
    )
    c = result.counts
    log(
        _(
            "{what}: {ok} ok, {failed} failed, {skipped} skipped in {seconds} s; report {report}"
        ).format(
            what=what,
            ok=c["ok"],
            failed=c["failed"],
            skipped=c["skipped"],
            seconds=format_number(result.seconds, decimals=1),
            report=result.report,
        )
    )
    if interrupted is not None:
        log(
            _("{what} interrupted; the plans not made are marked so in the report").format(
                what=what
            ),
            settings.NOTICE,
        )
        raise interrupted
    return result


def _check_name(path: Path) -> None:
    """Refuse a district file whose name cannot be a plain output folder (``...toml``)."""
    name = path.stem
    if not name or name.startswith(".") or name != Path(name).name:
        msg = _(
            "{path}: the district's name {name!r} (the file name without .toml) cannot name an "
            "output folder; rename the file"
        ).format(path=path, name=name)
        raise InputDataError(msg)


def _check_inputs(plan: PlanRequest, source: Path) -> None:
    """Refuse inputs that are not regular files (a device or pipe would never end)."""
    named = [("osm", plan.osm), *plan.files.items(), ("areas", plan.areas)]
    for key, p in named:
        if p is not None:
            check_input_file(p, what=f"{source}: `{key}`")


def dask_setup(worker: object) -> None:
    """Worker preload: leave Ctrl-C to the batch, which closes the cluster and reports.

    A terminal sends SIGINT to every process of the batch; without this each worker would
    print its own traceback.

    Parameters
    ----------
    worker
        The Dask worker (unused).
    """
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        msg = _("batch planning needs dask distributed: pip install 'distributed>=2024.1'")
        raise ImportError(msg) from exc
    return distributed


@contextlib.contextmanager
def _client(distributed: Any, scheduler: str | None, workers: int | None) -> Iterator[Client]:
    """Yield a client of a new local cluster, or of the cluster at `scheduler`."""
    # the client's scheduler and nannies log every connection, and a slow worker exit, on
    # stderr; what matters to the user comes back as task results and errors
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(max(level, logging.ERROR))
    try:
        with _connect(distributed, scheduler, workers) as client:
            yield client
    finally:
        quiet.setLevel(level)


@contextlib.contextmanager
def _connect(distributed: Any, scheduler: str | None, workers: int | None) -> Iterator[Client]:
    if scheduler is None:
        import dask

        n = workers or os.cpu_count() or 1
        config = _local_config()
        with dask.config.set(config):
            if config["distributed.worker.multiprocessing-method"] == "forkserver":
                _preload_fork_server(distributed)
            # a free port for the scheduler's HTTP endpoint: another cluster may hold 8787
            cluster = distributed.LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",
                silence_logs=logging.ERROR,
            )
        with cluster, distributed.Client(cluster) as client:
            yield client
        return
    try:
        client_cm = distributed.Client(scheduler, timeout=30)
    except (OSError, TimeoutError, ValueError) as exc:
        msg = _("`scheduler` {scheduler} cannot be reached: {error}").format(
            scheduler=scheduler, error=f"{type(exc).__name__}: {exc}"
        )
        raise PatrolPlanError(msg) from None
    with client_cm as client:
        try:
            client.wait_for_workers(1, timeout=_WORKER_TIMEOUT_S)
        except TimeoutError:
            msg = _("`scheduler` {scheduler} has no worker after {seconds} s").format(
                scheduler=scheduler, seconds=_WORKER_TIMEOUT_S
            )
            raise PatrolPlanError(msg) from None
        yield client


def _local_config() -> dict[str, Any]:
    """Return the Dask settings of a local cluster for plans.

    - Workers start from a fork server that has imported the planning modules once
      (:data:`_PRELOAD`), so no worker pays the 2-3 s import before its first plan and the
      cores are not all busy importing the same modules at start. Where there is no fork
      server (Windows), each worker imports them as it starts (a worker preload).
    - A plan is one long task on one thread: the workers' statistical profiler (a sample of
      the task's stack every 10 ms) would cost a few per cent of each plan for a profile
      nobody reads.
    - The event-loop health check, the memory check and the system monitor run less often
      (every 0.5, 1 and 2 s instead of 20, 100 and 500 ms): on an idle cluster of 2 workers
      that takes the client's housekeeping from 1.9 % to 0.8 % of a core and each worker's
      from 1 % to 0.3 %, CPU the plans get back. A worker over its memory limit is still
      stopped within a second.
    """
    import multiprocessing

    forkserver = "forkserver" in multiprocessing.get_all_start_methods()
    config: dict[str, Any] = {
        "distributed.worker.multiprocessing-method": "forkserver" if forkserver else "spawn",
        "distributed.worker.profile.enabled": False,
        "distributed.admin.tick.interval": "500ms",
        "distributed.worker.memory.monitor-interval": "1s",
        "distributed.admin.system-monitor.interval": "2s",
        # each worker ignores Ctrl-C (see dask_setup): the batch itself stops the cluster
        "distributed.worker.preload": [__name__],
    }
    if not forkserver:
        config["distributed.worker.preload"] = [*_PRELOAD, __name__]
    return config


def _start_fork_server(distributed: Any) -> None:
    """Start the local cluster's fork server now, if it uses one, so it imports in the background.

    The fork server takes the environment the nanny would give the workers (one thread for
    the numerical libraries, memory trimming), set here as the nanny sets it.
    """
    from multiprocessing import forkserver

    import dask

    config = _local_config()
    if config["distributed.worker.multiprocessing-method"] != "forkserver":
        return
    with dask.config.set(config):
        _preload_fork_server(distributed)
        environ = dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {}
    os.environ.update(
        {k: os.environ.get(k, str(v)) for k, v in dict(environ).items() if v is not None}
    )
    forkserver.ensure_running()


def _preload_fork_server(distributed: Any) -> None:
    """Have the fork server import :data:`_PRELOAD` before it starts the first worker.

    Call it under the local cluster's settings. distributed sets the fork server's modules
    (its own dependencies) the first time it asks for the fork-server context; asking first
    here lets the planning modules join them. Once the fork server runs (an earlier local
    cluster in this process), its modules are fixed, and it already holds these.
    """
    distributed.utils.get_mp_context().set_forkserver_preload(["distributed", *_PRELOAD])


def _run_on(
    client: Client,
    distributed: Any,
    todo: list[_Job],
    cache: Path,
    prepared: list[_Prepared],
) -> Iterator[PlanOutcome]:
    """Submit the build-first tasks and the plans; yield each outcome as it finishes.

    The build-first tasks' results are appended to `prepared` once every plan is done.
    """
    # one task per distinct extract builds its graph cache; GraphML needs no building
    extracts = {
        osm.resolve()
        for job in todo
        if (osm := job.plan.osm) is not None and not osm.name.lower().endswith(".graphml")
    }
    # longest plans first: the short ones then fill the end, where a worker that ran out of
    # plans would otherwise wait idle for the last long one
    ranked = sorted(todo, key=_cost, reverse=True)
    first = len(ranked) + 1
    builds = {
        p: client.submit(
            _build_graph, p, cache, key=f"graph-{p.name}-{_token(p)}", pure=False, priority=first
        )
        for p in sorted(extracts)
    }
    compiled = client.submit(
        _compile_solver, key=f"compile-{_token('solver')}", pure=False, priority=first
    )
    futures = {
        client.submit(
            _plan_task,
            job,
            builds.get(job.plan.osm.resolve()) if job.plan.osm else None,
            compiled,
            cache,
            key=f"plan-{job.name}-{job.shift}-{_token(job.folder)}",
            pure=False,
            priority=len(ranked) - rank,
        ): job
        for rank, job in enumerate(ranked)
    }
    for fut in distributed.as_completed(list(futures)):
        job = futures.pop(fut)
        try:
            outcome = fut.result()
        except Exception as exc:
            # the task itself catches everything: this is a lost worker or a cluster failure
            outcome = PlanOutcome(
                job.name, job.shift, "failed", error=_error_line(exc), folder=job.folder
            )
        fut.release()
        yield outcome
    for fut in [*builds.values(), compiled]:
        try:
            done = fut.result()
        except Exception as exc:
            done = _Prepared(str(fut.key), 0.0, _error_line(exc))
        prepared.append(done)
        tail = f": {done.error}" if done.error else ""
        log(f"Prepared {done.what} in {done.seconds:.1f} s{tail}", logging.DEBUG)


def _cost(job: _Job) -> float:
    """Guess the relative cost of a plan, to start the longest first.

    Reading grows with the input files, and the route search with the officers and the
    shift: their product orders the plans well enough (the guess only decides the order).
    """
    size = 0
    for p in [job.plan.osm, *job.plan.files.values()]:
        if p is not None:
            with contextlib.suppress(OSError):
                size += Path(p).stat().st_size
    return float(size) * job.plan.options.officers * max(job.plan.options.shifts_min)


def _token(value: object) -> str:
    """Short unique suffix of a task key."""
    return hashlib.sha1(f"{value}-{time.time_ns()}-{os.getpid()}".encode()).hexdigest()[:10]


def _load_district(path: Path) -> District:
    from patrolplan.config import load_config

    district = load_config(path)
    missing = [
        key
        for key, value in (
            ("[district] `osm`", district.osm),
            ("[district] `posts`", district.posts),
            ("[layers.*] with a `file`", district.incidents),
        )
        if not value
    ]
    if missing:
        msg = _("{path}: missing {keys}").format(path=path, keys=", ".join(missing))
        raise InputDataError(msg)
    return district


def _sha256(path: Path, cache: dict[Path, str | None]) -> str | None:
    if path not in cache:
        try:
            cache[path] = file_sha256(path)
        except OSError:
            cache[path] = None
    return cache[path]


def _request(plan: PlanRequest, name: str, hashes: dict[Path, str | None]) -> dict[str, Any]:
    """Return what a plan depends on: the request's values, input hashes, version.

    The district file itself is not hashed: a new comment or a moved file does not call for a
    new plan, while a changed option, post or input file does.
    """
    from patrolplan import __version__

    files = {"osm": plan.osm, **plan.files}
    record = {
        "format": _MARKER_FORMAT,
        "patrolplan_version": __version__,
        **plan.record(),
        "district": name,
        "sha256": {k: _sha256(Path(p), hashes) for k, p in files.items() if p is not None},
    }
    # as JSON gives it back, so it compares equal to a marker read from disk
    return dict(json.loads(json.dumps(record)))


def _is_complete(folder: Path, request: Mapping[str, Any]) -> bool:
    """Tell whether `folder` holds a finished plan made for the same request."""
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        params = json.loads((folder / "report.json").read_text(encoding="utf-8"))["params"]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if not isinstance(marker, dict) or marker.get("request") != request:
        return False
    opts = request["options"]
    if (params.get("date"), params.get("start")) != (opts["date"], opts["start"]):
        return False
    return all((folder / f).is_file() for f in marker.get("files", []))


def _error_line(exc: BaseException) -> str:
    """One line naming the problem: the message of our own errors, else type and message."""
    text = str(exc) if isinstance(exc, PatrolPlanError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux reports KB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


class _ListHandler(logging.Handler):
    """Collect the formatted records of one thread."""

    def __init__(self, lines: list[str], thread: int) -> None:
        super().__init__(logging.DEBUG)
        self.lines = lines
        self.thread = thread

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(self.format(record))


_capture_lock = threading.Lock()
_capture_depth = 0
_saved_logger_state: tuple[int, bool] = (logging.NOTSET, True)


@contextlib.contextmanager
def _captured_log() -> Iterator[list[str]]:
    """Collect this thread's ``patrolplan`` log lines and warnings instead of printing them."""
    global _capture_depth, _saved_logger_state
    lines: list[str] = []
    logger = logging.getLogger("patrolplan")
    handler = _ListHandler(lines, threading.get_ident())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    with _capture_lock:
        if _capture_depth == 0:
            _saved_logger_state = (logger.level, logger.propagate)
            logger.setLevel(min(settings.log_level, logging.INFO))
            # a worker's stderr is shared by every task: nothing may reach it
            logger.propagate = False
        _capture_depth += 1
        logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            yield lines
        for w in caught:
            text = " ".join(str(w.message).split())
            lines.append(
                f"{time.strftime('%Y-%m-%d %H:%M:%S')} WARNING {w.category.__name__}: {text}"
            )
    finally:
        with _capture_lock:
            logger.removeHandler(handler)
            _capture_depth -= 1
            if _capture_depth == 0:
                logger.setLevel(_saved_logger_state[0])
                logger.propagate = _saved_logger_state[1]


def _build_graph(path: Path, cache: Path) -> _Prepared:
    """Worker task: parse an extract once into the graph cache, unless it is cached.

    A cached graph is not loaded here: the plans waiting for this task load it themselves.
    (A damaged cache is then found, and rebuilt, by the plans.)
    """
    from patrolplan import graph

    t0 = time.perf_counter()
    with _captured_log() as lines:
        try:
            if not path.is_file() or not (cache / graph._cache_name(path)).is_file():
                graph.graph_from_file(path, cache_dir=cache)
            error = ""
        except Exception as exc:
            error = _error_line(exc)
    return _Prepared(str(path), time.perf_counter() - t0, error, tuple(lines))


def _compile_solver() -> _Prepared:
    """Worker task: compile the route search once, before the plans need it."""
    from patrolplan import routing

    t0 = time.perf_counter()
    with _captured_log() as lines:
        try:
            routing.start_compiling()()
            error = ""
        except Exception as exc:
            error = _error_line(exc)
    return _Prepared("route search", time.perf_counter() - t0, error, tuple(lines))


def _plan_task(job: _Job, built: _Prepared | None, compiled: _Prepared, cache: Path) -> PlanOutcome:
    """Worker task: make one plan and write it; never raises, a failure is an outcome."""
    started = time.time()
    from patrolplan import plan as _plan

    t0 = time.perf_counter()
    status: Status = "ok"
    error = ""
    with _captured_log() as lines:
        try:
            if built is not None and built.error:
                raise PatrolPlanError(built.error)
            # an older plan in the folder stops counting as complete before anything changes
            (job.folder / MARKER).unlink(missing_ok=True)
            result = _plan.make_plan(dataclasses.replace(job.plan, cache_dir=cache))
            files = _plan.write_plan(result, job.folder)
            if job.db is not None:
                from patrolplan import store

                store.write_plan(result, job.db, district=job.plan.name or job.name)
        except Exception as exc:
            status, error = "failed", _error_line(exc)
            lines.extend(traceback.format_exc().rstrip().splitlines())
    seconds = time.perf_counter() - t0
    outcome = PlanOutcome(
        district=job.name,
        shift=job.shift,
        status=status,
        seconds=seconds,
        error=error,
        folder=job.folder,
        worker=_worker_address(),
        peak_rss_mb=round(_peak_rss_mb(), 1),
        log=tuple(lines),
        started=started,
    )
    if status == "ok":
        try:
            atomic_write_text(job.folder / "plan.log", "\n".join(lines) + "\n")
            # the marker goes last: a folder without it is not complete
            marker = {
                "request": job.request,
                "files": [p.name for p in files] + ["plan.log"],
                "seconds": round(seconds, 2),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
            }
            atomic_write_text(job.folder / MARKER, json.dumps(marker, indent=2) + "\n")
        except OSError as exc:
            outcome = dataclasses.replace(outcome, status="failed", error=_error_line(exc))
        else:
            outcome = dataclasses.replace(outcome, log=())
    return outcome


class _Progress:
    """A bar on a terminal (:class:`patrolplan._progress.Progress`); else a line per plan."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self.counter = Progress(
            total,
            what=_("Batch"),
            unit=ngettext("shift plan", "shift plans", 1),
            units=ngettext("shift plan", "shift plans", total),
            show=None if enabled else False,
        )

    def update(self, p: PlanOutcome) -> None:
        text = f"{p.district} {p.shift} {p.status}"
        tail = f": {p.error}" if p.error else ""
        line = _("{done}/{total} done: {text} {seconds} s{tail}").format(
            done=self.counter.done + 1,
            total=self.counter.total,
            text=text,
            seconds=format_number(p.seconds, decimals=1),
            tail=tail,
        )
        self.counter.update(note=text, line=line)
        # without a bar the line above already holds the error
        if self.counter.bar is not None and p.status == "failed":
            self.counter.write(f"{text}: {p.error}")

    def close(self) -> None:
        self.counter.close()


def _relative(path: Path | None, base: Path) -> str:
    if path is None:
        return ""
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return str(path)


def _write_report(
    result: BatchResult,
    *,
    day: str | None,
    shifts: Sequence[tuple[str, str]],
    districts_dir: Path,
    scheduler: str | None,
    prepared: Sequence[_Prepared],
) -> None:
    """Write ``batch_report.json``: the request, the counts and one entry per plan."""
    from patrolplan import export

    per_worker: dict[str, dict[str, Any]] = {}
    for p in result.plans:
        if p.worker:
            w = per_worker.setdefault(p.worker, {"plans": 0, "peak_rss_mb": 0.0})
            w["plans"] += 1
            w["peak_rss_mb"] = max(w["peak_rss_mb"], p.peak_rss_mb or 0.0)
    export.write_json(
        result.report,
        {
            "date": day,
            "shifts": [f"{s}/{length}" for s, length in shifts],
            "districts_dir": str(districts_dir.resolve()),
            "scheduler": scheduler or "local",
            "workers": result.workers,
            "seconds": round(result.seconds, 2),
            "timings": dict(result.timings),
            "ok": result.ok,
            "counts": result.counts,
            "worker_memory": per_worker,
            "prepared": [
                {"what": p.what, "seconds": round(p.seconds, 2), "error": p.error} for p in prepared
            ],
            "plans": [
                {
                    "district": p.district,
                    "shift": p.shift,
                    "status": p.status,
                    "seconds": round(p.seconds, 2),
                    "error": p.error,
                    "folder": _relative(p.folder, result.out) if p.status != "failed" else "",
                    "worker": p.worker,
                    "peak_rss_mb": p.peak_rss_mb,
                    # when the plan started on its worker, seconds after the batch started
                    "started_s": round(p.started - result.started, 2) if p.started else None,
                    **({"log": list(p.log)} if p.status == "failed" and p.log else {}),
                }
                for p in result.plans
            ],
        },
    )
