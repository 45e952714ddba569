"""How long-running library code talks to the terminal: one progress-bar style (bar, count,
elapsed time, ETA) and one style of side remark (notes and warnings), both on stderr."""

from __future__ import annotations

import contextlib
import contextvars
import functools
from typing import Callable, Iterable, Iterator


def tell(lines: Iterable[str], *, kind: str | None = "note") -> None:
    """Print each line on stderr, after a yellow ``kind:`` prefix (none when ``kind`` is None).

    The lines are escaped: a path or column such as ``tempo [bpm]`` is not rich markup.
    """
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, soft_wrap=True)
    for line in lines:
        console.print(f"[yellow]{kind}:[/] {escape(line)}" if kind else escape(line), highlight=False)


#: Seconds between the plain progress lines written where stderr is not a terminal.
LOG_EVERY_S = 30.0


def progress_bar(*, enabled: bool = True, log_every: float = LOG_EVERY_S):
    """A rich progress bar on stderr; a silent no-op when ``enabled`` is false.

    Where stderr is not a terminal (a batch job's log file, ``2> log``) rich draws no bar
    until the end; a plain line with the count, the elapsed time and the ETA is written
    instead at most every ``log_every`` seconds as the work advances, so a log shows
    progress while the job runs.

    A task's description may be given as a function of no argument rather than a string:
    it is then asked again before each redraw, plain line and ``advance``, so the label
    follows what it describes, e.g. ``bar.add_task(lambda: f"extracting ({executor.description})",
    total=n)`` says so when an executor falls back to working in this process.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return _logging_progress_class()(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
        log_every=log_every,
    )


#: Where :func:`report` sends a step's progress: set by :func:`reporting`, None otherwise.
_REPORTER: contextvars.ContextVar[Callable[[str, int, int], None] | None] = contextvars.ContextVar(
    "genre_progress_reporter", default=None
)


@contextlib.contextmanager
def reporting(*, enabled: bool = True, title: str | None = None) -> Iterator[None]:
    """Show, while the block runs, the steps that library code inside it :func:`report`\ s.

    Work that has no loop of its own to show (one model's fit) still says it is running:
    ``title`` is a task without a total (elapsed time, no ETA), and each step reported
    inside, such as a network's epochs or the log-mel patches of a CNN, gets its own bar
    with a count and an ETA.

    Parameters
    ----------
    enabled : bool
        False: nothing is shown, and :func:`report` stays a no-op.
    title : str, optional
        What the block does, e.g. ``"fitting cnn"``.
    """
    if not enabled:
        yield
        return
    with progress_bar() as bar:
        tasks: dict[str, tuple[object, int]] = {}
        whole = bar.add_task(title, total=None) if title else None

        def update(step: str, done: int, total: int) -> None:
            task, before = tasks.get(step) or (bar.add_task(step, total=total), 0)
            bar.update(task, total=total)
            bar.advance(task, done - before)  # advance: the plain log lines of a batch job too
            tasks[step] = (task, done)

        token = _REPORTER.set(update)
        try:
            yield
            if whole is not None:
                bar.update(whole, total=1, completed=1)  # done: a full bar, not "0/?"
        finally:
            _REPORTER.reset(token)


def report(step: str, *, done: int, total: int) -> None:
    """Say that ``done`` of ``total`` units of ``step`` are finished; a no-op outside :func:`reporting`.

    Library code calls it inside its loops at no cost when nobody shows progress (worker
    processes of a benchmark, plain Python use).
    """
    update = _REPORTER.get()
    if update is not None:
        update(step, done, total)


def _clock(seconds: float | None) -> str:
    """``0:01:05`` for 65.4 s; ``-:--:--`` when unknown (as rich's columns show it)."""
    if seconds is None:
        return "-:--:--"
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


@functools.cache
def _logging_progress_class():
    """:class:`rich.progress.Progress` that also writes plain lines where stderr is no terminal.

    Built on first use, so importing this module does not import rich.
    """
    import time

    from rich.progress import Progress

    class LoggingProgress(Progress):
        def __init__(self, *columns, log_every: float, **kwargs) -> None:
            # Tasks whose description is a function (see progress_bar), asked again before use;
            # set first: rich draws once while it starts.
            self._labels: dict = {}
            super().__init__(*columns, **kwargs)
            self._log_every = log_every
            self._logged_at = time.monotonic()

        def add_task(self, description, *args, **kwargs):
            label = description if callable(description) else None
            task_id = super().add_task(label() if label else description, *args, **kwargs)
            if label:
                self._labels[task_id] = label
            return task_id

        def update(self, task_id, *, description=None, **kwargs) -> None:
            if description is not None:  # a description given now replaces the function
                self._labels.pop(task_id, None)
            super().update(task_id, description=description, **kwargs)

        def _relabel(self) -> None:
            for task_id, label in list(self._labels.items()):
                text = label()
                with self._lock:
                    task = self._tasks.get(task_id)
                    if task is not None:
                        task.description = text

        def get_renderables(self):
            self._relabel()  # each redraw, the final one included: the label is current on screen too
            yield from super().get_renderables()

        def advance(self, task_id, advance: float = 1) -> None:
            self._relabel()
            super().advance(task_id, advance)
            if self.disable or self.console.is_terminal:
                return
            now = time.monotonic()
            if now - self._logged_at < self._log_every:
                return
            self._logged_at = now
            task = self._tasks[task_id]
            self.console.print(
                f"{task.description}: {task.completed:g}/{task.total:g}, {_clock(task.elapsed)}, "
                f"ETA {_clock(task.time_remaining)}",
                highlight=False,
                markup=False,
            )

    return LoggingProgress
