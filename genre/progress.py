"""How long-running library code talks to the terminal: one progress-bar style (bar, count,
elapsed time, ETA) and one style of side remark (notes and warnings), both on stderr."""

from __future__ import annotations

from typing import Iterable


def tell(lines: Iterable[str], *, kind: str | None = "note") -> None:
    """Print each line on stderr, after a yellow ``kind:`` prefix (none when ``kind`` is None).

    The lines are escaped: a path or column such as ``tempo [bpm]`` is not rich markup.
    """
    from rich.console import Console
    from rich.markup import escape

    console = Console(stderr=True, soft_wrap=True)
    for line in lines:
        console.print(f"[yellow]{kind}:[/] {escape(line)}" if kind else escape(line), highlight=False)


def progress_bar(*, enabled: bool = True):
    """A rich progress bar on stderr; a silent no-op when ``enabled`` is false."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )
