"""Where extraction work runs. An executor maps a function over items and yields results
as they finish (any order); the extraction engine puts them back in order on disk.

New engines plug in by implementing :class:`Executor`: :class:`LocalExecutor` (worker
processes on this machine) and :class:`DaskExecutor` (a Dask cluster, imported only when used).
"""

from __future__ import annotations

import os
import threading
import time
import warnings
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, Callable, Iterable, Iterator, Protocol, Sized

from genre.text import plural


class Executor(Protocol):
    """Runs ``func(item)`` for each item and yields the results as they complete.

    An executor that cannot get a result for an item (its worker keeps dying) may yield a
    :class:`TaskFailure` for it instead; every item yields exactly one of the two. Given no
    item, an executor starts nothing (no process, no cluster) and yields nothing.

    An executor may also have ``prepare(*, n_items, notes)``, which extraction and prediction
    call (through :func:`prepare_executor`) before ``map_unordered`` with the number of items
    to come: an executor that starts processes on this machine sizes itself there (see
    :func:`cap_workers`) and appends to ``notes`` what the user should know about it.
    """

    description: str

    def map_unordered(self, func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]: ...


def resolve_jobs(jobs: int) -> int:
    """Number of worker processes: ``-1`` means all cores, ``-2`` all but one, etc.

    Raises
    ------
    ParameterError
        ``jobs`` is 0, or negative beyond the number of cores (``-5`` on 2 cores).
    """
    from genre.errors import ParameterError

    cores = os.cpu_count() or 1
    # -(cores + 1) and below would leave no core at all: a typo, not a request for one process.
    if jobs == 0 or jobs < -cores:
        raise ParameterError(
            f"--jobs {jobs}: use a positive number, or -1 for all {cores} cores (-2 for all but one, "
            f"down to -{cores})"
        )
    return cores + 1 + jobs if jobs < 0 else jobs


def cap_workers(*, jobs: int, n_items: int, notes: list[str]) -> int:
    """Worker processes to start on this machine for ``jobs``: never more than items, or than cores.

    Parameters
    ----------
    jobs : int
        What the user asked for (``--jobs``; ``-1`` = all cores).
    n_items : int
        Items to work on; at least one process is counted even for none.
    notes : list of str
        Gets a line when fewer processes run than asked because of the cores.

    Returns
    -------
    int

    Raises
    ------
    ParameterError
        ``jobs`` is unusable (see :func:`resolve_jobs`).
    """
    asked = resolve_jobs(jobs)
    cores = os.cpu_count() or 1
    if asked > cores:  # extraction is CPU-bound: more processes than cores only cost memory
        notes.append(
            f"--jobs {jobs}: this machine has {cores} {plural(cores, 'core', 'cores')}, so at most {cores} "
            f"worker {plural(cores, 'process runs', 'processes run')}"
        )
    return max(1, min(asked, cores, n_items))


def prepare_executor(executor: Executor, *, n_items: int, notes: list[str]) -> None:
    """Let ``executor`` size itself for ``n_items``, if it can (``prepare`` is optional in :class:`Executor`).

    The one way extraction and prediction size an executor, so that both keep the worker
    processes they start on this machine to the items and the cores alike.

    Parameters
    ----------
    executor : Executor
        Where the work is about to run.
    n_items : int
        Items the next ``map_unordered`` gets.
    notes : list of str
        Gets what the user should know about the sizing (fewer processes than asked).
    """
    prepare = getattr(executor, "prepare", None)
    if prepare is not None:
        prepare(n_items=n_items, notes=notes)


def _head(items: Iterable[Any], n: int) -> tuple[list[Any], Iterator[Any]]:
    """The first ``n`` of ``items`` (fewer if there are fewer), and an iterator over the rest.

    How an executor tells, before it starts any process or cluster, whether there is work
    enough for them; works on a generator as well as on a list.
    """
    rest = iter(items)
    return list(islice(rest, n)), rest


class LocalExecutor:
    """Worker processes on this machine (joblib's loky backend); ``jobs=1`` runs in-process.

    No process starts for no item, and a single item runs in this process; given items with
    a length, no more processes start than there are items. :meth:`prepare` also keeps them
    to the number of cores. A worker that dies costs at most the item it was running (see
    :meth:`map_unordered`), not the run. Where no worker process can start at all (the
    Python interpreter cannot be run by this user, say), the items run in this process
    instead, and the ``notes`` given to :meth:`prepare` get a line saying so.

    Parameters
    ----------
    jobs : int
        Worker processes; ``-1`` = all cores.

    Attributes
    ----------
    no_workers : str or None
        Why no worker process can start here, once a map found out; every later map then
        runs in this process. None: none was found to fail.
    """

    def __init__(self, *, jobs: int = -1) -> None:
        self._asked = jobs
        self.no_workers: str | None = None
        # The caller's notes (see prepare): a fallback found while mapping is added to them.
        self._notes: list[str] | None = None
        self._set_jobs(resolve_jobs(jobs))

    def _set_jobs(self, jobs: int) -> None:
        self.jobs = jobs
        # Read by progress bars while the items run (see genre.progress.progress_bar): a map
        # that falls back to this process says so on its bar.
        self.description = (
            NO_WORKER_HERE if self.no_workers else f"{jobs} local {plural(jobs, 'process', 'processes')}"
        )

    def prepare(self, *, n_items: int, notes: list[str]) -> None:
        """Run no more processes than ``n_items`` or cores (see :func:`cap_workers`) in the next map.

        ``notes`` also gets a line later, while the next map runs, if it finds that no worker
        process can start here and works in this process instead.
        """
        self._notes = notes
        # From what was asked, not from the last cap: a reused executor may get more items.
        jobs = cap_workers(jobs=self._asked, n_items=n_items, notes=notes)
        # Workers that could not start for an earlier map would not start for this one either.
        self._set_jobs(1 if self.no_workers else jobs)

    def map_unordered(self, func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Run ``func(item)`` in worker processes; yield results (or :class:`TaskFailure`) as they finish.

        When a worker dies (killed for memory, a crash in a decoder), the items that were in
        flight are run again one at a time, so that a death names its item for sure and the
        items beside it are not blamed; an item whose worker dies again alone is yielded as a
        :class:`TaskFailure`, and the rest of the items go on in a fresh pool.

        When workers die before any has returned a result, a fresh worker is given a task that
        does nothing (see :func:`_why_no_worker_runs`): if it dies too, no worker can start
        here (the interpreter cannot be run, say), so the items are no one's fault; they all
        run in this process instead (as ``jobs=1`` does), and a note says why
        (:attr:`no_workers`), rather than each being skipped as a worker's death.
        """
        # No process for no item or a single one: the first two tell, even of a generator.
        head, rest = _head(items, 2)
        if self.jobs == 1 or len(head) <= 1:
            yield from map(func, chain(head, rest))
            return
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        n_jobs = min(self.jobs, len(items)) if isinstance(items, Sized) else self.jobs
        todo = chain(head, rest)
        workers_run = False  # known once a worker returned a result: deaths are then the items'
        while True:
            in_flight: dict[int, Any] = {}
            try:
                for result in _pool_map(func, todo, in_flight=in_flight, n_jobs=n_jobs):
                    workers_run = True
                    yield result
                return
            except TerminatedWorkerError:
                suspects = list(in_flight.values())
            except OSError:
                # Before any item was handed out: loky's helper process (its resource tracker,
                # the same interpreter as the workers) could not start. Later, the item's own.
                if workers_run or in_flight:
                    raise
                suspects = []
            if not workers_run:
                why = _why_no_worker_runs(n_jobs)
                if why is not None:
                    self._work_here(why)
                    yield from map(func, chain(suspects, todo))
                    return
                workers_run = True  # the empty task came back: asked once, not at every death
            # As many workers as before: the pool is reused as it is, not resized for one item.
            yield from map_alone(func, suspects, reason=WORKER_DIED, n_jobs=n_jobs)

    def _work_here(self, why: str) -> None:
        """From now on, run every item in this process; note ``why`` no worker process could start."""
        import sys

        self.no_workers = why
        self._set_jobs(1)
        _quiet_resource_tracker()
        if self._notes is not None:
            self._notes.append(
                f"--jobs {self._asked}: no worker process could start ({why}; can this user run the Python "
                f"interpreter {sys.executable}?), so the files are worked on in this process, one at a time"
            )


#: :attr:`LocalExecutor.description` once no worker process could start (the bar's label).
NO_WORKER_HERE = "this process: no worker could start"


def _quiet_resource_tracker() -> None:
    """Silence loky's warnings of a resource tracker that died: a note says why no worker starts."""
    # loky tries its resource tracker once more as the interpreter exits, and warns.
    warnings.filterwarnings("ignore", message=r"resource_tracker: process died unexpectedly", category=UserWarning)


def _alive(item: Any) -> int:
    """The empty task of :func:`_why_no_worker_runs`: the worker's process id, whatever ``item``."""
    return os.getpid()


def _why_no_worker_runs(n_jobs: int) -> str | None:
    """Why a worker process of a fresh pool of ``n_jobs`` cannot run an empty task; None when it can.

    Told apart this way, a pool that cannot start (an interpreter this user cannot run,
    workers killed as they start) is not taken for items that kill their workers. The pool
    is left running for the work that follows.

    Returns
    -------
    str or None
        E.g. ``"they exited at once, exit code 255"``, or ``"starting them failed:
        BrokenPipeError: ..."`` when loky's resource tracker, which runs the same
        interpreter, could not start either.
    """
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    try:
        for _ in _pool_map(_alive, [None], in_flight={}, n_jobs=n_jobs):
            pass
    except (TerminatedWorkerError, OSError) as exc:  # _alive raises nothing: the pool's own failure
        return _start_failure(exc)
    return None


def _start_failure(error: BaseException) -> str:
    """Why workers could not run, from what starting them raised (see :func:`_why_no_worker_runs`)."""
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    if isinstance(error, TerminatedWorkerError):
        return f"they exited at once, {_exit_codes(error)}"
    return f"starting them failed: {type(error).__name__}: {error}"


def _exit_codes(error: BaseException) -> str:
    """``exit code 255`` or ``killed by SIGKILL``, from loky's message ``...are {UNKNOWN(255), SIGKILL(-9)}``."""
    import re

    found = re.search(r"exit codes? of the workers (?:is|are) \{([^}]*)\}", str(error))
    codes = sorted(
        {f"killed by {name}" if name.startswith("SIG") else f"exit code {code}" for name, code in
         re.findall(r"(\w+)\((-?\d+)\)", found.group(1) if found else "")}
    )  # fmt: skip
    return ", ".join(codes) or "exit code not known"


#: Why :class:`LocalExecutor` gives up an item (see :meth:`LocalExecutor.map_unordered`).
WORKER_DIED = (
    "the worker process died while extracting it, also when tried again alone (out of memory, or a decoder crash?)"
)


#: Why :func:`map_alone` did not run an item: ``{why}`` says why no worker process can start.
NOT_TRIED = "not run: no worker process can start here ({why})"


def map_alone(
    func: Callable[[Any], Any],
    items: Iterable[Any],
    *,
    reason: str = WORKER_DIED,
    n_jobs: int = 1,
    not_tried: str = NOT_TRIED,
) -> Iterator[Any]:
    """Run ``func(item)`` in a worker process, one item at a time; yield each result, or a failure.

    Nothing else runs in the workers beside the item, so a worker that dies (killed for
    memory, a crash in a decoder) names its item for sure: it is yielded as
    ``TaskFailure(item, reason)`` and the next item gets a fresh process. This process
    survives either way, which is why an item suspected of killing the process that ran it
    is tried here. Workers are reused from one item to the next, so a process start (about
    2 s, imports included) is paid once, and once more after each death.

    Parameters
    ----------
    func : callable
        Picklable, as are the items (loky pickles them with cloudpickle).
    items : iterable
        Run in order; results come in the same order.
    reason : str
        One line for the skipped-files list, for an item whose worker died.
    not_tried : str
        With ``n_jobs=1``: the reason of a :class:`NotTried` (``{why}`` filled in), yielded
        for each item from the first whose worker could not start, or died, while a fresh
        worker then cannot run an empty task either (see :func:`_why_alone_no_worker_runs`):
        no worker process can start here, so the death is not the item's, and the items
        left are not tried (running them here instead could take this process down).
    n_jobs : int
        Size of the pool to run in (one item at a time all the same): the size of a pool
        already running, so that joblib reuses it rather than starting another; 1 starts
        a worker of its own, stopped when the items are done.
    """
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    if n_jobs > 1:
        for item in items:
            try:
                yield from _pool_map(func, [item], in_flight={}, n_jobs=n_jobs)
            except TerminatedWorkerError:
                yield TaskFailure(item, reason)
        return
    from joblib.externals.loky import ProcessPoolExecutor

    # Not joblib, which runs n_jobs=1 in this very process, nor loky's shared reusable
    # executor: joblib takes that one for its own, and fails on one it did not make.
    pool: Any = None
    workers_run = False  # known once a worker returned a result: deaths are then the items'
    why: str | None = None  # why no worker process can start here, once found
    try:
        for item in items:
            if why is not None:
                yield NotTried(item, not_tried.format(why=why), why)
                continue
            done = False
            with warnings.catch_warnings():
                # Where no process can start, loky warns at each relaunch of its resource
                # tracker; what happened is told once, by the caller (see not_tried).
                _quiet_resource_tracker()
                try:
                    # Starting the worker: loky raises OSError (its resource tracker, the same
                    # interpreter, could not start) or ValueError (a dead tracker's descriptor).
                    pool = pool or ProcessPoolExecutor(max_workers=1)
                    future = pool.submit(_keyed, func, 0, item, os.getpid())
                except (OSError, ValueError) as exc:
                    if workers_run:
                        raise
                    why = _start_failure(exc)
                else:
                    try:
                        result = future.result()[1]
                        workers_run = done = True
                    except TerminatedWorkerError:
                        pool.shutdown(wait=False)  # broken: the next item gets a fresh process
                        pool = None
                        if not workers_run:
                            why, pool = _why_alone_no_worker_runs()
                            workers_run = why is None
            if done:
                yield result
                continue
            if why is None:
                yield TaskFailure(item, reason)
            else:
                _quiet_resource_tracker()
                yield NotTried(item, not_tried.format(why=why), why)
    finally:
        if pool is not None:  # done, or stopped (Ctrl-C): no worker is left analysing for nobody
            pool.shutdown(kill_workers=True)


def _why_alone_no_worker_runs() -> tuple[str | None, Any]:
    """As :func:`_why_no_worker_runs`, for :func:`map_alone`'s own pool of one worker.

    Returns
    -------
    (why, pool)
        ``why`` is None when a fresh worker ran the empty task; ``pool`` is then that
        worker's, kept for the next item (no process start is paid twice), else None.
    """
    from joblib.externals.loky import ProcessPoolExecutor
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    pool: Any = None
    try:
        pool = ProcessPoolExecutor(max_workers=1)
        pool.submit(_alive, None).result()
        return None, pool
    except (TerminatedWorkerError, OSError, ValueError) as exc:  # ValueError: see map_alone
        why = _start_failure(exc)
    if pool is not None:
        pool.shutdown(wait=False)
    return why, None


def _pool_map(
    func: Callable[[Any], Any], items: Iterable[Any], *, in_flight: dict[int, Any], n_jobs: int
) -> Iterator[Any]:
    """``func`` over ``items`` in joblib's pool of loky processes, results as they finish.

    ``in_flight`` holds the items handed to the pool whose result has not come back yet: after
    a worker died (``TerminatedWorkerError``), they are the ones to run again.
    """
    from joblib import Parallel, delayed

    parent = os.getpid()

    def tasks() -> Iterator[Any]:
        for key, item in enumerate(items):
            in_flight[key] = item
            yield delayed(_keyed)(func, key, item, parent)

    # A bounded dispatch window keeps the number of pending results, and so memory,
    # independent of how many files there are.
    parallel = Parallel(
        n_jobs=n_jobs, backend="loky", return_as="generator_unordered", batch_size=1, pre_dispatch="2*n_jobs"
    )
    with warnings.catch_warnings():
        # A batch stopped early (Ctrl-C, a full disk) already says so in one line; joblib's
        # "N tasks ... have been cancelled" warning would only add noise after it.
        warnings.filterwarnings("ignore", message=r".*tasks which were still being processed", category=UserWarning)
        # loky replaces a worker whose memory grew (TensorFlow loaded for embeddings, say) or
        # that sat idle, and warns of "a memory leak" although no task is lost; a worker that
        # dies with its task is a TerminatedWorkerError, handled by the caller.
        warnings.filterwarnings("ignore", message=r"A worker stopped while some jobs were given", category=UserWarning)
        # Where no process can start (see _why_no_worker_runs), loky relaunches its resource
        # tracker and warns at each try; the run's note says what happened, once.
        warnings.filterwarnings("ignore", message=r"resource_tracker: process died unexpectedly", category=UserWarning)
        for key, result in parallel(tasks()):
            del in_flight[key]
            yield result


def _keyed(func: Callable[[Any], Any], key: int, item: Any, parent: int) -> tuple[int, Any]:
    """Worker side of :func:`_pool_map` and :func:`map_alone`: the result with the key of its item.

    ``parent`` is the process that handed out the item; a worker process it started exits
    when it is gone (see :func:`_exit_with_parent`).
    """
    _exit_with_parent(parent)
    return key, func(item)


#: Seconds between two looks of a worker process at its parent (see :func:`_exit_with_parent`).
PARENT_POLL_S = 0.5

#: The parent process this worker watches already, if any (one watcher per process).
_watched_parent: int | None = None


def _exit_with_parent(parent: int) -> None:
    """In a worker process that ``parent`` started: exit as soon as ``parent`` is gone.

    loky's workers wait up to 300 s for their next item and finish the one they hold even
    when the process that started them was killed (``kill -9``, the OOM killer): up to five
    minutes of a stale pool, its memory held and its cores busy beside the rerun. A daemon
    thread polls the parent's id (a dead parent's children are handed to another process)
    and ends the worker then; a partial result is of no use to anyone. Nothing happens in
    the parent itself (the function ran in-process), nor in a process that is not its
    direct child.

    Parameters
    ----------
    parent : int
        Process id of the process that handed out the work.
    """
    global _watched_parent
    if _watched_parent is not None or os.getpid() == parent or os.getppid() != parent:
        return
    _watched_parent = parent

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(1)

    threading.Thread(target=watch, name="genre-exit-with-parent", daemon=True).start()


#: Dask settings for a local cluster started by :class:`DaskExecutor` (and advice for a remote one).
#:
#: - Dask sets ``MALLOC_TRIM_THRESHOLD_`` in its workers, which also turns off glibc's
#:   adaptive mmap threshold: every STFT-sized array is then mapped and unmapped afresh,
#:   and extraction runs about 1.4x slower. Unset (None), workers allocate as a plain
#:   Python process does.
#: - The scheduler and the client keep their last ``low-level-log-length`` (1,000)
#:   messages for debugging, each task's arguments included: with the scheduler in this
#:   process, that is the tracks of 1,000 tasks, and memory grew with the number of files
#:   until the log was full. 50 messages keep it flat from the start.
#: - Each worker samples its task's stack every 10 ms for the dashboard's profile view,
#:   which is not started here; that costs about 1 % of a core per worker.
CLUSTER_CONFIG: dict[str, Any] = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.admin.low-level-log-length": 50,
    "distributed.worker.profile.enabled": False,
}


@dataclass(frozen=True)
class TaskFailure:
    """What an executor yields for an item whose task could not be run to the end.

    The engine turns it into a skipped file with ``reason``, so that a file that kills
    every worker it lands on (a decoder crash) costs that file, not the run.

    Attributes
    ----------
    item : Any
        The item given to ``map_unordered``.
    reason : str
        One line for the skipped-files list.
    """

    item: Any
    reason: str


@dataclass(frozen=True)
class NotTried(TaskFailure):
    """A :class:`TaskFailure` of an item never run, as no worker process can start here (see :func:`map_alone`).

    Attributes
    ----------
    why : str
        Why no worker process can start, e.g. ``"they exited at once, exit code 255"``.
    """

    why: str = ""


class DaskExecutor:
    """Workers of a Dask cluster: a running scheduler, or a local cluster started here.

    Nothing is started or connected until a :meth:`map_unordered` gets its first item;
    :meth:`close` (or leaving a ``with`` block) shuts down what this object started, and only
    that: a cluster reached through ``scheduler`` is left running. Workers need ``genre`` and its
    dependencies importable, at the same versions as here.

    At most ``window_per_thread`` tasks (of at most ``max_batch_size`` items each) per
    worker thread are in flight at a time, so the memory of this (coordinating) process
    does not grow with the number of items; the window follows the cluster's thread
    count as workers come and go.

    A task whose worker dies is rerun elsewhere by the scheduler, up to its
    ``distributed.scheduler.allowed-failures`` times (``allowed_failures`` for a local
    cluster); a task that raises is rerun ``retries`` times. A task that still fails is
    yielded as a :class:`TaskFailure` rather than raised.

    Workers of a cluster started elsewhere should run with :data:`CLUSTER_CONFIG` (in the
    Dask config of the machine that starts them, e.g. ``MALLOC_TRIM_THRESHOLD_: null``
    under ``distributed.nanny.pre-spawn-environ``), or extract about 1.4x slower.

    Parameters
    ----------
    scheduler : str or None
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``; ``None`` starts a
        :class:`distributed.LocalCluster` of worker processes on this machine.
    n_workers : int or None
        Worker processes of the local cluster (``-1`` or ``None``: one per core); :meth:`prepare`
        keeps them to the number of items and of cores, as for local processes. Ignored with
        ``scheduler``: a cluster started elsewhere is left as it is.
    threads_per_worker : int
        Threads per local worker. Extraction is CPU-bound Python/NumPy code, so one thread
        per process avoids contention for the GIL.
    window_per_thread : int
        Tasks in flight per worker thread (>= 1): enough to hide the round trip to the
        scheduler without holding many results here.
    batch_size : int or None
        Items per task; ``None`` adapts it so that a task computes for about
        ``task_seconds``. Every task costs the scheduler and this process a few
        milliseconds, as much as extracting a short clip: batching short items keeps that
        overhead small, while long items (a 30 s track) still go one per task.
    task_seconds : float
        Target compute time of one task in s, when ``batch_size`` is ``None``.
    max_batch_size : int
        Largest adaptive batch; at most ``window_per_thread * threads * max_batch_size``
        items are in flight.
    retries : int
        Reruns of a task that raised (>= 0).
    allowed_failures : int or None
        Worker deaths a task may cause before it fails, for a local cluster started here;
        ``None``: Dask's configured default (3).
    connect_timeout : float
        Seconds to wait for the scheduler to answer.
    """

    def __init__(
        self,
        *,
        scheduler: str | None = None,
        n_workers: int | None = None,
        threads_per_worker: int = 1,
        window_per_thread: int = 2,
        batch_size: int | None = None,
        task_seconds: float = 0.25,
        max_batch_size: int = 32,
        retries: int = 2,
        allowed_failures: int | None = None,
        connect_timeout: float = 30.0,
    ) -> None:
        from genre.errors import ParameterError

        if threads_per_worker < 1:
            raise ParameterError(f"threads_per_worker={threads_per_worker}: must be >= 1")
        if window_per_thread < 1:
            raise ParameterError(f"window_per_thread={window_per_thread}: must be >= 1")
        if retries < 0:
            raise ParameterError(f"retries={retries}: must be >= 0")
        if batch_size is not None and batch_size < 1:
            raise ParameterError(f"batch_size={batch_size}: must be >= 1, or None to adapt")
        if not task_seconds > 0 or max_batch_size < 1:
            raise ParameterError(f"task_seconds={task_seconds}, max_batch_size={max_batch_size}: must be > 0 and >= 1")
        self.scheduler = scheduler
        self._asked = -1 if n_workers is None else n_workers
        self.n_workers = None if scheduler else resolve_jobs(self._asked)
        self.threads_per_worker = threads_per_worker
        self.window_per_thread = window_per_thread
        self.batch_size = batch_size
        self.task_seconds = task_seconds
        self.max_batch_size = max_batch_size
        self.retries = retries
        self.allowed_failures = allowed_failures
        self.connect_timeout = connect_timeout
        self._cluster: Any = None
        self._client: Any = None
        self._describe()

    def _describe(self) -> None:
        if self.scheduler:
            self.description = f"Dask cluster at {self.scheduler}"
        else:
            self.description = f"Dask local cluster, {self.n_workers} {plural(self.n_workers, 'worker', 'workers')}"

    def prepare(self, *, n_items: int, notes: list[str]) -> None:
        """Size the local cluster for ``n_items``: no more workers than items, or than cores.

        The cap is :func:`cap_workers`'s, as for :class:`LocalExecutor`, note included. A
        cluster at ``scheduler`` is the user's own and is left as it is. A local cluster
        already started (an executor reused for another run) is grown if this run needs
        more workers, never shrunk: idle workers cost little, starting them again costs seconds.
        """
        if self.scheduler:
            return
        wanted = cap_workers(jobs=self._asked, n_items=n_items, notes=notes)
        if self._cluster is None:
            self.n_workers = wanted
        elif wanted > self.n_workers:
            self._cluster.scale(wanted)
            self.n_workers = wanted
        self._describe()

    # -- life cycle --------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """The :class:`distributed.Client`, connecting (or starting the cluster) on first use.

        Raises
        ------
        ParameterError
            Dask is not installed, or the scheduler cannot be reached.
        """
        if self._client is None:
            self._client = self._connect()
        return self._client

    def _connect(self) -> Any:
        from genre.errors import ParameterError

        try:
            import distributed
        except ImportError:
            raise ParameterError(
                "Dask is not installed: pip install 'dask[distributed]' to run on a cluster"
            ) from None
        if self.scheduler:
            try:
                # Checked first: a Client that fails on a malformed address lingers and
                # complains at exit.
                distributed.comm.get_address_host_port(self.scheduler)
            except ValueError as exc:
                raise ParameterError(f"{self.scheduler}: not a scheduler address tcp://HOST:PORT ({exc})") from None
            try:
                # Not the default client: the caller's own Dask work must not land here.
                client = distributed.Client(self.scheduler, timeout=self.connect_timeout, set_as_default=False)
            except (OSError, ValueError, TypeError) as exc:
                raise ParameterError(f"{self.scheduler}: cannot reach the Dask scheduler ({exc})") from None
            try:
                _check_workers(client, self.scheduler)
            except BaseException:
                client.close()
                raise
            return client
        import logging

        import dask

        # The scheduler always serves HTTP (health checks); on a free local port, not on
        # 8787, which another cluster may hold.
        scheduler_kwargs: dict[str, Any] = {"dashboard": False, "dashboard_address": "127.0.0.1:0"}
        if self.allowed_failures is not None:
            scheduler_kwargs["allowed_failures"] = self.allowed_failures
        with dask.config.set(CLUSTER_CONFIG):  # read as the scheduler, nannies and client start
            self._cluster = distributed.LocalCluster(
                n_workers=self.n_workers,
                threads_per_worker=self.threads_per_worker,
                processes=True,
                silence_logs=logging.ERROR,
                scheduler_kwargs=scheduler_kwargs,
            )
            return distributed.Client(self._cluster, set_as_default=False)

    def close(self) -> None:
        """Disconnect, and shut down the local cluster if this object started one."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def __enter__(self) -> "DaskExecutor":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- work --------------------------------------------------------------------------------
    def _window(self, client: Any) -> int:
        # Before any worker has joined a remote scheduler, fill as if one thread were there.
        threads = sum(client.nthreads().values())
        return self.window_per_thread * max(threads, 1)

    def map_unordered(self, func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        """Run ``func(item)`` on the cluster; yield results (or :class:`TaskFailure`) as they finish.

        Items travel in batches (see ``batch_size``); a batch that fails is split and its
        items are run one by one, so that only the item at fault is reported as failed.
        Closing the generator early (e.g. Ctrl-C in the consumer) cancels the tasks in flight.
        """
        import time
        from collections import deque

        head, rest = _head(items, 1)
        if not head:  # no work: no cluster is started or connected to for it
            return
        client = self.client  # first: without Dask installed, a ParameterError saying how to get it
        from distributed import as_completed

        todo = chain(head, rest)
        alone: deque[Any] = deque()  # items of failed batches, to rerun one per task
        in_flight: dict[Any, list[Any]] = {}  # future -> its batch, to report a failure by item
        # Results come back with the completion notice (gathered on the client's event
        # loop), so the consumer never waits on a second round trip per task.
        done = as_completed(loop=client.loop, with_results=True, raise_errors=False)
        window, checked = self._window(client), time.monotonic()
        # Auto: single items until the first results tell how long one takes.
        size = self.batch_size or 1
        item_seconds: float | None = None  # running mean of compute time per item

        def fill() -> None:
            while len(in_flight) < window:
                batch = [alone.popleft()] if alone else list(islice(todo, size))
                if not batch:
                    return
                future = client.submit(_run_batch, func, batch, pure=False, retries=self.retries)
                in_flight[future] = batch
                done.add(future)

        try:
            fill()
            for future, result in done:
                batch = in_flight.pop(future)
                status = future.status
                del future  # release the task's result on the cluster now
                results: list[Any]
                if status == "finished":
                    results, seconds = result
                    if self.batch_size is None:
                        per_item = seconds / len(batch)
                        item_seconds = per_item if item_seconds is None else 0.8 * item_seconds + 0.2 * per_item
                        size = int(min(self.max_batch_size, max(1.0, self.task_seconds / max(item_seconds, 1e-6))))
                elif len(batch) > 1:
                    alone.extend(batch)  # which item failed? each gets its own task
                    results = []
                else:
                    results = [TaskFailure(batch[0], _failure_reason(result))]
                if time.monotonic() - checked > 5.0:  # workers may have joined or left
                    window, checked = self._window(client), time.monotonic()
                fill()  # refill before handing over, so workers stay busy meanwhile
                yield from results
        finally:
            if in_flight:
                client.cancel(list(in_flight))
                in_flight.clear()


def _run_batch(func: Callable[[Any], Any], batch: list[Any]) -> tuple[list[Any], float]:
    """Worker side of :meth:`DaskExecutor.map_unordered`: results of a batch, and its compute time in s."""
    import time

    started = time.perf_counter()
    results = [func(item) for item in batch]
    return results, time.perf_counter() - started


#: Packages whose versions decide the numbers in a feature table (and ``python``: pickles).
_ENVIRONMENT_PACKAGES = ("genre", "librosa", "numpy", "scipy", "soundfile", "soxr", "numba")


def _environment() -> dict[str, str]:
    """Versions of :data:`_ENVIRONMENT_PACKAGES` here, and Python's; also run on each worker."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": "{}.{}".format(*sys.version_info[:2])}
    for package in _ENVIRONMENT_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "(missing)"
    return found


def _check_workers(client: Any, scheduler: str) -> None:
    """Check that the workers of a cluster started elsewhere run what runs here.

    A worker that cannot unpickle a task (``genre`` missing) does not fail it: Dask's
    task stream to that worker breaks and the run would wait forever. Workers with other
    versions of librosa or numpy would compute other numbers. Both are caught here, before
    any task is sent; workers that join later are not checked.

    Raises
    ------
    ParameterError
        A worker cannot import ``genre``, or runs other versions.
    """
    from genre.errors import ParameterError

    here = _environment()
    try:
        there = client.run(_environment)
    except Exception as exc:
        raise ParameterError(
            f"{scheduler}: the Dask workers cannot load genre's code ({exc}); "
            "install this version of genre and its requirements on every worker"
        ) from None
    for worker, versions in sorted(there.items()):
        differ = [f"{name} {versions.get(name)} (here {here[name]})" for name in here if versions.get(name) != here[name]]
        if differ:
            raise ParameterError(
                f"{worker}: this Dask worker runs {', '.join(differ)}; features would differ from a local run, "
                "so install the same versions on every worker"
            )


def _exception(result: Any) -> Any:
    """The exception of a failed task, from what :class:`distributed.as_completed` gives for it."""
    return result[1] if isinstance(result, tuple) and len(result) == 3 else result


def _failure_reason(result: Any) -> str:
    """One line naming why a Dask task failed."""
    exc = _exception(result)
    if type(exc).__name__ == "KilledWorker":  # the scheduler gave up after repeated worker deaths
        attempts = getattr(exc, "allowed_failures", None)
        tries = f" ({attempts + 1} attempts)" if isinstance(attempts, int) else ""
        return f"the worker process died each time it ran this file{tries}"
    if isinstance(exc, BaseException):
        return f"task failed on the Dask cluster: {type(exc).__name__}: {exc}"
    return "task failed on the Dask cluster"
