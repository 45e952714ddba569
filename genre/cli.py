"""The ``genre`` command line: parses options, calls the library, prints.

Every command is a thin wrapper over a function importable from Python. User errors
(:class:`genre.errors.GenreError`) are printed as one line and exit with status 2;
heavy libraries (TensorFlow, XGBoost) are imported only by the commands that need them.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path
from typing import Any, Iterator, Optional

import typer
from rich.console import Console

from genre.atomic import output_path
from genre.errors import GenreError, ParameterError


def _flags_without_type(command: Any, ctx: Any) -> None:
    """Show flags in ``--help`` as ``--strict``, not ``--strict <bool>``.

    Typer's rich help prints every option's type, a flag's too, as if it took a value
    (``--strict true`` is an error). A metavar replaces the type there; an empty one shows
    nothing. Flags never print a metavar anywhere else (usage, errors).
    """
    for param in command.get_params(ctx):  # the --help option included
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""


class _Command(typer.core.TyperCommand):
    """A command whose help shows flags without a value type (:func:`_flags_without_type`)."""

    def format_help(self, ctx, formatter) -> None:
        _flags_without_type(self, ctx)
        super().format_help(ctx, formatter)


class _Group(typer.core.TyperGroup):
    """The ``genre`` group, its help showing flags without a value type (:func:`_flags_without_type`)."""

    def format_help(self, ctx, formatter) -> None:
        _flags_without_type(self, ctx)
        super().format_help(ctx, formatter)


app = typer.Typer(
    name="genre",
    cls=_Group,
    help="Music genre classification from audio: extract features, train, predict, benchmark.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _output_option(default: Optional[str], *, help: str):
    """The ``--output``/``-o`` option of a command, for a parameter typed ``str``.

    Not ``Path``: Typer would turn an empty argument into ``Path(".")``, the current folder,
    before :func:`genre.atomic.output_path` could refuse it.
    """
    return typer.Option(default, "--output", "-o", metavar="PATH", help=help)


# "\\[": rich markup would take "[linear]" for a style tag and drop it.
_PARAM_HELP = (
    "Model parameter NAME=VALUE (repeatable). VALUE is a Python literal (3, 0.05, [1, 10], None) or text; "
    "text with commas or in brackets is a list of literals or words: svm,logreg, \\[0.01, scale], "
    "\\[linear] (one item); a single value for a list parameter is a list of one (C_grid=10)"
)


def _drop_option():
    """The ``--drop`` option of ``train`` and ``benchmark``, for a parameter typed ``Optional[list[str]]``.

    Its metavar: Typer would show a repeatable option's type, ``<list[str]>``, as if it took a Python list.
    """
    return typer.Option(
        None, "--drop", metavar="COLUMNS", help="Columns to leave out of the features (repeatable, or comma-separated)."
    )


def _param_option(*, several: bool):
    """The ``--param``/``-p`` option of ``train`` (one model) and ``benchmark`` (``several`` models)."""
    if several:
        return typer.Option(
            None, "--param", "-p", metavar="[MODEL:]NAME=VALUE",
            help=_PARAM_HELP + "; MODEL:NAME=VALUE when several models run.",
        )  # fmt: skip
    return typer.Option(None, "--param", "-p", metavar="NAME=VALUE", help=_PARAM_HELP + ".")


def _print_version(value: bool) -> None:
    if value:
        from genre import __version__

        out.print(f"genre {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Music genre classification from audio: extract features, train, predict, benchmark."""


@contextlib.contextmanager
def user_errors(*, on_interrupt: str = "nothing was written") -> Iterator[None]:
    """Turn a :class:`GenreError` into one red line on stderr and exit status 2.

    ``on_interrupt`` says what Ctrl-C leaves behind; it differs between commands. A SIGTERM
    (``kill``, a batch scheduler's time limit) is handled like Ctrl-C, so locks are released,
    worker processes stopped and finished work kept, and the command says so.
    """
    previous = _terminate_as_interrupt()
    try:
        yield
    except GenreError as exc:
        from rich.markup import escape

        # Escaped: a column such as "tempo [bpm]" must not be read as rich markup.
        console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True)
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt as exc:
        _stop_for(exc, on_interrupt)
    except OSError as exc:
        if exc.filename is None:
            raise  # not about a file the user named: a bug, shown as one
        # A path the checks did not foresee (a folder that may not be searched, a disk that
        # vanished): still one line naming it, not a traceback.
        from rich.markup import escape

        from genre.data.tracks import printable

        console.print(
            f"[bold red]error:[/] {escape(printable(_as_path(exc.filename)))}: "
            f"{escape(exc.strerror or type(exc).__name__)}",
            highlight=False,
        )
        raise typer.Exit(code=2) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _stop_for(interrupt: KeyboardInterrupt, what_is_kept: str) -> None:
    """Say that Ctrl-C (or SIGTERM) stopped the command and what it kept; exit 130 (143 for SIGTERM)."""
    terminated = isinstance(interrupt, _Terminated)
    console.print(f"[yellow]{'terminated' if terminated else 'interrupted'}[/]: {what_is_kept}", highlight=False)
    raise typer.Exit(code=128 + signal.SIGTERM if terminated else 130) from None


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be, so the same clean-up runs."""


def _raise_terminated(signum, frame) -> None:
    raise _Terminated()


def _terminate_as_interrupt():
    """Make SIGTERM raise :class:`_Terminated`; returns the handler to restore (``None``: unchanged).

    Only the main thread may set handlers (a command run from a test's worker thread keeps
    the default).
    """
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _raise_terminated)


def _as_path(name: object) -> str | bytes:
    return name if isinstance(name, (str, bytes)) else str(name)  # an OSError may carry a descriptor


def _fma_metadata_option():
    return typer.Option(None, "--fma-metadata", help="FMA's tracks.csv (default: FOLDER/../fma_metadata/tracks.csv).")


def _fma_subset_option():
    return typer.Option(
        None, "--fma-subset", help="FMA subset: small, medium, large or full (default: from FOLDER's name)."
    )


def _fma_options(source: Optional[str], metadata: Optional[Path], subset: Optional[str]) -> dict[str, Any]:
    """``--fma-metadata`` / ``--fma-subset`` as the options of :func:`genre.data.load_dataset`; only for ``fma:``."""
    fma = {k: v for k, v in {"metadata": metadata, "subset": subset}.items() if v is not None}
    if fma and not (source or "").startswith("fma:"):
        raise ParameterError("--fma-metadata and --fma-subset apply only to an fma:FOLDER source")
    return fma


@app.command(cls=_Command)
def extract(
    source: Optional[str] = typer.Argument(
        None,
        show_default=False,
        help="Folder of label folders, a manifest CSV (path,label[,group]), fma:FOLDER (Free Music Archive audio), "
        "or 'synthetic' (the default: the built-in demo corpus).",
    ),
    output: str = _output_option("reports/features.csv", help="Feature CSV to write."),
    jobs: int = typer.Option(-1, "--jobs", "-j", help="Parallel worker processes (-1: all cores)."),
    dask: bool = typer.Option(False, "--dask", help="Run on a local Dask cluster of --jobs worker processes."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", metavar="tcp://HOST:PORT", help="Run on the workers of this Dask scheduler."
    ),
    fma_metadata: Optional[Path] = _fma_metadata_option(),
    fma_subset: Optional[str] = _fma_subset_option(),
    segment_seconds: Optional[float] = typer.Option(
        None, "--segment-seconds", show_default=False, help="Segment length in s; 0: one row per track (default 3)."
    ),
    sr: Optional[int] = typer.Option(
        None, "--sr", show_default=False, help="Analysis sample rate in Hz (default 22050)."
    ),
    embeddings: Optional[str] = typer.Option(
        None,
        "--embeddings",
        help="Write pretrained-CNN embeddings per ~3 s patch instead of handcrafted features: "
        "musicnn, musicnn-mtt, vgg or vgg-mtt.",
    ),
    strict: bool = typer.Option(False, "--strict", help="Exit non-zero if any file was skipped (ignored non-audio files such as cover.jpg do not count)."),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Replace an existing output; discard an unfinished run of other settings or library versions "
        "(one of the same settings is resumed, even for other files or labels: the rows of unchanged audio are kept).",
    ),
) -> None:
    """Turn a folder of audio into a feature CSV (one row per segment), resumably."""
    with user_errors(on_interrupt="finished files are kept; rerun the same command to resume"):
        from genre.data import load_dataset
        from genre.features.extract import choose_extractor, extract_to_csv
        from genre.progress import tell

        target = output_path(output, what="--output", kind="file")
        # Before the dataset is listed: a bad setting is refused at once, even for a large folder.
        extractor = choose_extractor(sr=sr, segment_seconds=segment_seconds, embeddings=embeddings)
        if dask and scheduler:
            raise ParameterError("--dask starts a local cluster, --scheduler uses a running one: give one of them")
        dataset = load_dataset(source, **_fma_options(source, fma_metadata, fma_subset))
        executor = None
        if dask or scheduler:
            from genre.features.executors import DaskExecutor

            executor = DaskExecutor(scheduler=scheduler, n_workers=jobs)
        try:
            with executor or contextlib.nullcontext():  # shuts down a cluster it started, even on Ctrl-C
                report = extract_to_csv(
                    dataset.without_notes(),
                    target,
                    extractor=extractor,
                    jobs=jobs,
                    executor=executor,
                    progress=True,
                    overwrite=overwrite,
                )
        finally:
            # What the listing left out is said at the end, however the run ends, beside the
            # run's own end notes: said as it starts, the progress bar would scroll it away.
            tell(dataset.notes)
        _print_extract_report(report)
        if report.n_extracted == 0 or (strict and report.skipped):
            raise typer.Exit(code=1)


@app.command("fma-split", cls=_Command)
def fma_split(
    source: str = typer.Argument(..., help="fma:FOLDER, the FMA audio folder (as genre extract takes it)."),
    output: str = typer.Option(
        ..., "--output", "-o", help="Folder for train.txt, valid.txt and test.txt (earlier lists there are replaced)."
    ),
    fma_metadata: Optional[Path] = _fma_metadata_option(),
    fma_subset: Optional[str] = _fma_subset_option(),
) -> None:
    """Write FMA's official training / validation / test split as list files for genre benchmark."""
    with user_errors():
        from rich.markup import escape

        from genre.data.fma import write_split_lists
        from genre.progress import tell

        lists = write_split_lists(
            source, output_path(output, what="--output", kind="folder"), metadata=fma_metadata, subset=fma_subset
        )
        tell(lists.notes)
        for split, path in lists.files.items():
            out.print(f"{split}: {lists.counts[split]} tracks -> {escape(str(path))}", highlight=False)


@app.command(cls=_Command)
def check(
    source: str = typer.Argument(
        ...,
        help="Folder of label folders, a manifest CSV, fma:FOLDER or 'synthetic' (as genre extract takes it).",
    ),
    fma_metadata: Optional[Path] = _fma_metadata_option(),
    fma_subset: Optional[str] = _fma_subset_option(),
    jobs: int = typer.Option(-1, "--jobs", "-j", help="Processes reading the files when there are many (-1: all cores)."),
    write: bool = typer.Option(
        False,
        "--write",
        help="For a folder of label folders without checksums: write SHA256SUMS at its root, for later checks.",
    ),
    output: Optional[str] = _output_option(
        None,
        help="Also write every file that differs, is missing, has no checksum or was left out to this CSV "
        "(path,problem,detail); the console names only the first few.",
    ),
) -> None:
    """Verify every track's audio file against the checksums its source declares.

    FMA: FOLDER/checksums. A manifest: a sha256, sha1 or md5 column. A folder: SHA256SUMS, SHA1SUMS, MD5SUMS or checksums at its root (--write writes SHA256SUMS). synthetic: its checksums.json (a damaged corpus is generated again first, as genre extract does, and a note says so). The summary line goes to stdout, the files that differ or are missing and the notes to stderr (as genre extract's). Exit status 1 when a file differs or one listed is missing.
    """
    with user_errors(on_interrupt="stopped before every file was read; nothing was written"):
        from rich.markup import escape

        from genre.atomic import check_output_file, check_replaceable, starts_with
        from genre.data.checksums import NAMED_IN_NOTES, PROBLEMS_HEADER, verify, write_checksums, write_problems_csv
        from genre.features.executors import LocalExecutor
        from genre.progress import tell
        from genre.text import plural

        fma = _fma_options(source, fma_metadata, fma_subset)
        target: Optional[Path] = None
        if output is not None:
            if write:
                raise ParameterError("--output lists what a check finds wrong; --write checks nothing: give one or the other")
            header = (",".join(PROBLEMS_HEADER) + "\n").encode()
            target = check_output_file(output_path(output, what="--output", kind="file"), inputs=[source])
            # Never over a manifest or a checksum file mistyped for it: only an earlier list is replaced.
            check_replaceable(
                target, ours=lambda p: starts_with(p, header), what="a list of genre check (path,problem,detail)"
            )
        executor = LocalExecutor(jobs=jobs)  # refuses a bad --jobs before anything is read
        if write:
            if fma:
                raise ParameterError("--write writes checksums for a folder of label folders, not for fma:")
            written = write_checksums(source, executor=executor, progress=True)
            tell(written.notes)
            out.print(
                f"sha256 of {written.n_files} files, {written.seconds:.1f} s -> {escape(str(written.path))}",
                highlight=False,
            )
            return
        report = verify(source, executor=executor, progress=True, **fma)
        tell(report.notes)
        n_listed = write_problems_csv(report, target) if target is not None else 0
        listed = f"{n_listed} {plural(n_listed, 'file', 'files')} listed in {target} (path,problem,detail)"
        if not report.against:
            out.print(escape(report.nothing_to_verify), highlight=False)
            if target is not None:
                out.print(escape(listed), highlight=False)
            return
        out.print(
            f"{report.n_matched} of {report.n_tracks} files match their checksums; {len(report.differ)} differ; "
            f"{len(report.no_checksum)} have none; {len(report.missing)} listed but missing "
            f"(against {escape(', '.join(report.against))}, {report.seconds:.1f} s)",
            highlight=False,
        )
        unlisted = "genre check --output FILE lists them all"
        _print_skipped(report.differ, listed_in=target, unlisted=unlisted, mark="[red]differs[/]", more="differ")
        _print_skipped(report.missing, listed_in=target, unlisted=unlisted, mark="[red]missing[/]", more="missing")
        if report.no_checksum:  # named too, the first few: a file added since the checksums were written
            n, first = len(report.no_checksum), report.no_checksum[:NAMED_IN_NOTES]
            where = f"all listed in {target}" if target is not None else unlisted
            rest = f", and {n - len(first)} more ({where})" if n > len(first) else ""
            tell([f"{n} {plural(n, 'file has', 'files have')} no checksum in {', '.join(report.against)}: "
                  f"{', '.join(first)}{rest}"])  # fmt: skip
        if target is not None:
            out.print(escape(listed), highlight=False)
        if not report.ok:
            raise typer.Exit(code=1)


def _print_extract_report(report) -> None:
    """Print the skipped files, the left-out folders and the summary line of an extraction."""
    from rich.markup import escape

    from genre.text import plural

    folders = report.folders_left_out
    _print_skipped(
        report.skipped,
        folders=folders,
        listed_in=report.skipped_path if report.written else None,
        unlisted="not written: nothing was extracted",
    )
    left_out = f", {len(folders)} {plural(len(folders), 'folder', 'folders')} left out" if folders else ""
    target = f"-> {report.output}" if report.written else f"({report.output} left as it was)"
    out.print(
        f"{report.n_extracted} of {report.n_tracks} files extracted ({report.n_resumed} from an earlier run), "
        f"{report.n_rows} rows, {len(report.skipped) - len(folders)} skipped{left_out}, {report.seconds:.1f} s "
        f"{escape(target)}",
        highlight=False,
    )
    if report.skipped and report.written:
        listed = "skipped files and left-out folders are" if folders else "skipped files are"
        out.print(f"{listed} listed in {escape(str(report.skipped_path))}", highlight=False)


#: Up to this many skipped files are printed one line each; beyond it only the first
#: SKIPPED_LISTED_FIRST and a count, so that a messy library's list does not scroll the results away.
SKIPPED_LISTED_IN_FULL = 20
SKIPPED_LISTED_FIRST = 10


def _print_skipped(
    skipped: list[tuple[str, str]],
    *,
    folders: set[str] | frozenset[str] = frozenset(),
    listed_in: Optional[Path | str],
    unlisted: Optional[str],
    mark: str = "[yellow]skipped[/]",
    more: str = "skipped",
) -> None:
    """Print skipped files (and left-out ``folders``) on stderr, all of them or the first few and a count.

    Parameters
    ----------
    skipped : list of (str, str)
        Paths and reasons.
    folders : set of str
        Paths in ``skipped`` that are folders, printed as "left out folder".
    listed_in : pathlib.Path, str or None
        The CSV that lists them all (or several, ``"a.csv and b.csv"``), named when lines are left out.
    unlisted : str or None
        Said instead when no CSV lists them (None: nothing).
    mark, more : str
        What each line starts with (rich markup), and what the count of the lines left out
        says they are: other lists of files with a reason (``genre check``'s) print alike.
    """
    from rich.markup import escape

    shown = skipped if len(skipped) <= SKIPPED_LISTED_IN_FULL else skipped[:SKIPPED_LISTED_FIRST]
    for path, reason in shown:
        what = "[yellow]left out[/] folder" if path in folders else mark
        # Escaped: a file named "Song [/Live].mp3" is not rich markup (it would even raise).
        console.print(f"{what} {escape(path)}: {escape(reason)}", highlight=False)
    if len(shown) < len(skipped):
        where = f"all listed in {listed_in}" if listed_in is not None else unlisted
        told = f" ({escape(where)})" if where else ""
        console.print(f"... and {len(skipped) - len(shown)} more {more}{told}", highlight=False)


# -- benchmark / report ----------------------------------------------------------------------
def _split_names(values: list[str] | None) -> list[str]:
    """``--drop a,b --drop c`` -> ``[a, b, c]`` (each value read as :func:`genre.text.name_list` reads a str)."""
    from genre.text import name_list

    return [name for value in values or [] for name in name_list(value)]


def _model_params(values: list[str] | None, *, models: list[str]) -> dict[str, dict[str, Any]]:
    """``--param svm:C_grid=[1,10] --param ensemble:members=svm,logreg`` -> parameters per model.

    ``MODEL:`` may be left out when one model is run. Each value is read by :func:`_param_value`.
    A parameter given twice for one model is refused: the last would win unnoticed.
    """
    params: dict[str, dict[str, Any]] = {}
    written: dict[tuple[str, str], str] = {}  # (model, name) -> the --param that set it
    for text in values or []:
        target, colon, assignment = text.partition(":") if ":" in text.partition("=")[0] else ("", "", text)
        key, equals, value = assignment.partition("=")
        target, key, value = target.strip(), key.strip(), value.strip()
        if not equals or not key or (colon and not target):
            raise ParameterError(f"--param {text!r}: write NAME=VALUE, or MODEL:NAME=VALUE (e.g. svm:C_grid=[1,10])")
        if not value:
            raise ParameterError(f"--param {text!r}: give {key} a value after '=' (e.g. {key}=3, {key}=[1,10])")
        if not target:
            if len(models) != 1:
                raise ParameterError(f"--param {text!r}: say which model it is for, as MODEL:{key}=...")
            target = models[0]
        if target not in models:
            raise ParameterError(f"--param {text!r}: model {target!r} is not being run ({', '.join(models)})")
        if (target, key) in written:
            raise ParameterError(
                f"--param {text!r}: {key} of {target} is already set by --param {written[target, key]!r}; "
                "give each parameter once"
            )
        written[target, key] = text
        params.setdefault(target, {})[key] = _param_value(value)
    return params


def _param_value(text: str) -> Any:
    """A ``--param`` value: a Python literal, else a list of items, else text.

    ``3``, ``0.5``, ``[1, 10]``, ``(128, 64)``, ``None``, ``'text'`` are literals. Text with
    commas (``svm,logreg``), or in brackets (``[linear]``, ``[0.01, scale]``), is a list whose
    items are read the same way (a literal, else a word); a trailing comma and empty items are
    dropped, so ``linear,`` and ``[linear]`` are one-item lists. Anything else is text.
    """
    value = _literal(text, otherwise=_NOT_A_LITERAL)
    if value is not _NOT_A_LITERAL:
        return value
    bracketed = text.startswith("[") and text.endswith("]")
    if bracketed or "," in text:
        return [_literal(item, otherwise=item) for item in _split_names([text[1:-1] if bracketed else text])]
    return text


_NOT_A_LITERAL = object()


def _literal(text: str, *, otherwise: Any) -> Any:
    """``ast.literal_eval(text)``, or ``otherwise`` when ``text`` is not a Python literal."""
    import ast

    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return otherwise




@app.command(cls=_Command)
def benchmark(
    ctx: typer.Context,
    # str, not Path: Typer would turn an empty argument into Path("."), the current folder.
    features: list[str] = typer.Argument(
        ...,
        help="Feature CSVs of the same tracks ('genre extract' output, musicnn embeddings, an external table), "
        "or one source of audio (a folder of label folders, a manifest CSV path,label[,group|artist], fma:FOLDER): "
        "its features are extracted into OUTPUT/features first.",
    ),
    models: str = typer.Option("dense,svm,xgboost", "--models", "-m", help="Comma-separated model names."),
    folds: Optional[int] = typer.Option(
        None, "--folds", "-k", show_default=False, help="Cross-validation folds (default 5; not with --test-list)."
    ),
    repeats: Optional[int] = typer.Option(
        None, "--repeats", show_default=False, help="Repeat the k-fold with new shuffles (default 1)."
    ),
    group_col: Optional[str] = typer.Option(
        None,
        "--group-col",
        help="Column of groups (artists) kept on one side of every split (for audio: a manifest's group or "
        "artist column).",
    ),
    no_groups: bool = typer.Option(False, "--no-groups", help="Ignore the table's group column."),
    train_list: Optional[list[Path]] = typer.Option(
        None, "--train-list", metavar="FILE", help="List file of training tracks (repeatable)."
    ),
    test_list: Optional[Path] = typer.Option(
        None, "--test-list", help="List file of test tracks: a fixed partition instead of CV."
    ),
    label_col: Optional[str] = typer.Option(None, "--label-col", help="Label column (default: detected)."),
    id_col: Optional[str] = typer.Option(None, "--id-col", help="File/track id column (default: detected)."),
    drop: Optional[list[str]] = _drop_option(),
    jobs: int = typer.Option(-1, "--jobs", "-j", help="Parallel folds / model threads (-1: all cores)."),
    seed: int = typer.Option(0, "--seed", help="Seed of splits and models."),
    param: Optional[list[str]] = _param_option(several=True),
    output: str = _output_option("reports/benchmark", help="Report folder."),
    fma_metadata: Optional[Path] = _fma_metadata_option(),
    fma_subset: Optional[str] = _fma_subset_option(),
    segment_seconds: Optional[float] = typer.Option(
        None,
        "--segment-seconds",
        show_default=False,
        help="For audio: segment length in s of the extracted features; 0: one row per track (default 3).",
    ),
) -> None:
    """Cross-validate models on feature tables (or audio), track-level and leakage-free, and write a report."""
    from genre.benchmark import benchmark as run_benchmark
    from genre.benchmark import is_audio_source
    from genre.evaluation.cv import DEFAULT_FOLDS, DEFAULT_REPEATS
    from genre.progress import tell

    from_audio = len(features) == 1 and is_audio_source(features[0])
    kept = "finished fits and the features extracted so far" if from_audio else "finished fits"
    with user_errors(on_interrupt=f"no report was written; {kept} are kept: rerun the same command to resume"):

        # The settings that decide the numbers are written even at their defaults, which a
        # later version of genre may change; folds and repeats only where they apply.
        deciding = ("models", "seed")
        if test_list is None:
            deciding += ("folds", "repeats")
            ctx.params["folds"] = folds = DEFAULT_FOLDS if folds is None else folds
            ctx.params["repeats"] = repeats = DEFAULT_REPEATS if repeats is None else repeats
        command = _command_line(ctx, always=deciding)
        names = _split_names([models])
        fma = _fma_options(features[0] if len(features) == 1 else None, fma_metadata, fma_subset)
        listing_notes: list[str] = []
        extracted: list = []  # the tables of audio, once extracted
        try:
            run = run_benchmark(
                list(features),
                output_dir=output_path(output, what="--output", kind="folder"),
                models=names,
                folds=folds,
                repeats=repeats,
                group_col=group_col,
                use_groups=not no_groups,
                train_lists=list(train_list or []),
                test_list=test_list,
                label_col=label_col,
                id_col=id_col,
                drop=_split_names(drop),
                jobs=jobs,
                seed=seed,
                progress=True,
                model_params=_model_params(param, models=names),
                command=command,
                source_options=fma,
                notes=listing_notes.append,
                segment_seconds=segment_seconds,
                extracted=extracted.append,
            )
        except BaseException:
            # A run that ends early (a refusal, Ctrl-C) still says what the listing left out and
            # which files the extraction skipped (often why it was refused), last before the
            # error; a finished one says them after its results (see _print_results).
            tell(listing_notes)
            for features_made in extracted:
                _print_skipped_by_extraction(features_made)
            raise
        _print_results(run.results, run.files, features=run.features)


@app.command(cls=_Command)
def report(
    results_json: Path = typer.Argument(..., help="results.json written by 'genre benchmark'."),
    output: Optional[str] = _output_option(None, help="Report folder (default: beside results.json)."),
) -> None:
    """Re-render report.html / report.md / plots from a results.json."""
    with user_errors():
        from genre.reports import load_results, render_report

        if output is not None:
            target = output_path(output, what="--output", kind="folder")
        else:
            target = results_json if results_json.is_dir() else results_json.parent
        results = load_results(results_json)
        files = render_report(results, target)
        _print_results(results, files)


@app.command(cls=_Command)
def models() -> None:
    """List the models: name, the input each reads, what it is, and the parameters --param sets (with defaults)."""
    with user_errors():
        from rich.markup import escape
        from rich.table import Table

        from genre.classifiers.registry import available_models, get_spec

        table = Table(box=None, header_style="bold", show_lines=False, highlight=False)
        for column in ("model", "reads", "description", "parameters (--param NAME=VALUE): defaults"):
            table.add_column(column, overflow="fold")
        for name in available_models():
            spec = get_spec(name)
            defaults = spec.defaults()
            shown = [f"{p}={_shown_default(defaults[p])}" if p in defaults else p for p in spec.parameters()]
            table.add_row(*(escape(text) for text in (name, spec.input, spec.description, ", ".join(shown))))
        out.print(table)


def _shown_default(value: object) -> str:
    """A default as --param takes it: ``[256,128,64]`` for a sequence, the value otherwise."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def _command_line(ctx: typer.Context, *, always: tuple[str, ...] = ()) -> str:
    """The running command as the user could retype it: its arguments, then every option whose
    value differs from the default, or is named in ``always`` (recorded in reports so a result
    can be reproduced)."""
    import shlex

    words = ["genre", ctx.info_name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if param.param_type_name == "argument":
            words += [str(v) for v in values]
        elif value not in (None, [], ()) and (value != param.default or param.name in always):
            flag = param.opts[0]
            words += [flag] if param.is_flag else [w for v in values for w in (flag, str(v))]
    return " ".join(shlex.quote(w) for w in words)


def _print_results(results, files, *, features=None) -> None:
    """Print the results table, the tests and notes, and the report's files.

    ``features`` (a benchmark of audio's :class:`genre.benchmark.ExtractedInputs`) adds its
    listing's notes and each file its extraction skipped, as ``genre extract`` names them (on
    stderr), and how many files of its tables were reused, extracted by this run and skipped:
    after the results, where the run's progress cannot scroll them away,
    and before the report's files, the last line, as ``genre extract`` ends on its output.
    """
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from genre.reports.content import headline_header, headline_rows, numeric_columns, p_value_text
    from genre.text import plural

    rows = headline_rows(results)
    columns = headline_header(results)
    protocol = results.protocol
    setting = (
        "fixed partition" if protocol.get("kind") == "fixed"
        else f"{protocol.get('folds')}-fold CV x {protocol.get('repeats')}"
        + (", group-aware" if protocol.get("group_aware") else ", not group-aware")
    )  # fmt: skip
    title = f"{setting}, track-level"
    index = columns.index("input")
    inputs = list(dict.fromkeys(row[index] for row in rows))
    legend: dict[str, str] = {}
    # Escaped: the title and cells are rich markup, and a file may be named "tempo [bpm].csv".
    if len(inputs) == 1:  # one shared input: say it once instead of in every row
        title = f"{escape(inputs[0])}: {title}"
        columns.pop(index)
        rows = [row[:index] + row[index + 1 :] for row in rows]
    else:
        # A description such as "features.csv (handcrafted, 331 features)" in every row would
        # wrap into fragments at 80 columns: a short label there, the descriptions once below.
        legend = _input_labels(inputs)
        rows = [row[:index] + [escape(legend[row[index]])] + row[index + 1 :] for row in rows]
    # Fewer, shorter columns and no "%" so the table fits an 80-column terminal (the report has them all).
    keep = [i for i, c in enumerate(columns) if c not in ("balanced acc", "predict s")]
    short = {"accuracy ± std": "accuracy ± sd", "95 % CI": "95% CI", "macro-F1": "macro F1"}
    title += " (scores in %)"
    columns = [short.get(columns[i], columns[i]) for i in keep]
    rows = [[row[i].replace(" %", "") for i in keep] for row in rows]
    # Two spaces between columns, not three: with an input column the widest rows
    # (musicnn-logreg, [100.0, 100.0]) still fit 80 columns.
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    for column, numeric in zip(columns, numeric_columns(rows)):
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    out.print(table)
    for description, label in legend.items():
        if label != description:
            out.print(f"input {escape(label)}: {escape(description)}", highlight=False)
    # User text below (labels in a caveat, list files and their lines, the report folder) is
    # escaped: "rock [live]" or "test[v2].txt" is not rich markup, which would drop it or raise.
    if results.protocol.get("caveat"):
        out.print(f"[yellow]caveat:[/] {escape(results.protocol['caveat'])}", highlight=False)
    for test in results.pairwise:
        if not test.testable:
            mark, p = "not testable (identical differences in every fold)", "undefined"
        else:
            mark = "[green]significant[/]" if test.significant else "not significant"
            p = p_value_text(test.p_holm, alpha=test.alpha)  # as the report shows it: on its side of alpha
        if test.weak and test.testable:
            mark += f" (weak test: {test.df:.0f} degree of freedom)"
        out.print(f"{escape(test.model_a)} vs {escape(test.model_b)}: {test.difference * 100:+.1f} points, "
                  f"p(Holm) = {p}, {mark}", highlight=False)  # fmt: skip
    for item in results.protocol.get("lists", []):
        if item["n_unmatched"]:
            shown = item["unmatched"][:3]
            # A listed file that extraction skipped (unreadable) is no typo in the list: say so.
            skipped, listed_in = features.skipped_lines(shown) if features is not None else ([], None)
            if skipped and len(skipped) == len(shown):
                why = f": {plural(len(skipped), 'a file', 'files')} the extraction skipped, see {listed_in}"
            else:
                why = f"; {', '.join(skipped)}: skipped by the extraction, see {listed_in}" if skipped else ""
            out.print(f"[yellow]{escape(item['path'])}[/]: {item['n_unmatched']} of {item['n_lines']} lines match "
                      f"no track (e.g. {escape(', '.join(shown) + why)})", highlight=False)  # fmt: skip
    if features is not None:
        from genre.progress import tell

        tell(features.notes)
        _print_skipped_by_extraction(features)
        out.print(f"features: {escape(_reuse_summary(features.tables))}", highlight=False)
    written = [files.html, files.markdown, files.json, *(path for path in (files.predictions, files.latex) if path)]
    out.print("report: " + "  ".join(escape(str(path)) for path in written), highlight=False)


def _print_skipped_by_extraction(features) -> None:
    """Name each file a benchmark of audio's extraction skipped, as ``genre extract`` names them.

    ``features`` is its :class:`genre.benchmark.ExtractedInputs`. A file several tables skipped
    is named once (see :meth:`~genre.benchmark.ExtractedInputs.skipped_files`). Said again when
    a table is reused whole, as ``genre extract --overwrite`` says them again on a table it
    reuses: the files are still in no split (the results' caveat gives one example).
    """
    skipped, folders, listed_in = features.skipped_files()
    _print_skipped(skipped, folders=folders, listed_in=" and ".join(map(str, listed_in)) or None, unlisted=None)


def _reuse_summary(tables) -> str:
    """``80 files reused, 20 extracted, 2 skipped (listed in ...)``; each table's, by kind, when there are several.

    Each file found is counted once (see :class:`genre.benchmark.ExtractedTable`): reused (rows
    from an earlier run), extracted (rows from this one) or skipped (no rows); folders the
    listing left out are no files, said apart as ``genre extract`` says them.
    """
    from genre.text import plural

    def skipped(table) -> str:
        folders = table.n_folders_left_out
        parts = [f"{table.n_skipped} skipped"] if table.n_skipped else []
        parts += [f"{folders} {plural(folders, 'folder', 'folders')} left out"] if folders else []
        # The skipped files are named just above this line (see _print_results): counted here.
        return f", {', '.join(parts)} (listed in {table.skipped_path})" if parts else ""

    said = [
        f"{table.n_reused} {plural(table.n_reused, 'file', 'files')} reused, {table.n_extracted} extracted"
        + skipped(table)
        for table in tables
    ]
    if len(said) == 1:
        return said[0]
    return "; ".join(f"{table.kind} {text}" for table, text in zip(tables, said))


#: Longest input label in the terminal's results table (see :func:`_input_labels`).
MAX_INPUT_LABEL = 12


def _input_labels(descriptions: list[str]) -> dict[str, str]:
    """A short, distinct label for each input description of a results table.

    ``"features.csv (handcrafted, 331 features)"`` is labelled by its kind
    (``handcrafted``) when the kinds tell the inputs apart, else by its file name when
    those are short and distinct, else by its number (``1``, ``2``, ...). A missing
    input (``"–"``, results of an older version) keeps its dash.
    """
    import re

    named = [d for d in descriptions if d != "–"]
    candidates = (
        # The kind: first item of the closing "(kind, what)"; a file name may hold brackets too.
        [m.group(1) if (m := re.search(r"\(([^,()]+)(?:,[^()]*)?\)$", d)) else "" for d in named],
        [re.sub(r" \([^()]*\)$", "", d) for d in named],  # the file name
    )
    for labels in candidates:
        if all(0 < len(label) <= MAX_INPUT_LABEL for label in labels) and len(set(labels)) == len(labels):
            break
    else:
        labels = [str(i) for i in range(1, len(named) + 1)]
    return {**dict(zip(named, labels)), **({"–": "–"} if "–" in descriptions else {})}


# -- train / predict ---------------------------------------------------------------------------
@app.command(cls=_Command)
def train(
    features: Path = typer.Argument(..., help="Feature CSV: 'genre extract' output or an external table."),
    model: str = typer.Option(
        "dense", "--model", "-m", metavar="NAME",
        help="Model name (dense, svm, xgboost, ensemble, ...; see 'genre models').",
    ),  # fmt: skip
    output: str = _output_option("reports/model.genre", help="Model file to write."),
    label_col: Optional[str] = typer.Option(None, "--label-col", help="Label column (default: detected)."),
    id_col: Optional[str] = typer.Option(None, "--id-col", help="File/track id column (default: detected)."),
    drop: Optional[list[str]] = _drop_option(),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Threads/processes the model may use (-1: all cores)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the model."),
    param: Optional[list[str]] = _param_option(several=False),
) -> None:
    """Fit one model on every row of a feature table and save it as a safe model file."""
    with user_errors():
        from rich.markup import escape

        from genre.classifiers.training import train_model

        result = train_model(
            features, model=model, output=output_path(output, what="--output", kind="file"), label_col=label_col, id_col=id_col,
            drop=_split_names(drop), seed=seed, jobs=jobs, progress=True,
            params=_model_params(param, models=[model]).get(model, {}),
        )  # fmt: skip
        details = ", ".join(f"{key} {value}" for key, value in result.details.items())
        out.print(
            f"trained {result.model_name} on {result.n_rows} rows ({result.n_tracks} tracks, {result.inputs}, "
            f"{len(result.labels)} classes) in {result.fit_seconds:.1f} s"
            + (f" ({details})" if details else "") + f" -> {result.output}",
            highlight=False,
        )  # fmt: skip
        notes = list(result.notes)
        if not result.can_predict_audio:
            notes.append(
                "the table has no genre feature configuration, so this model can predict "
                "from feature tables with the same columns but not from audio files"
            )
        for note in notes:
            out.print(f"[yellow]note:[/] {escape(note)}", highlight=False)


@app.command(cls=_Command)
def predict(
    model: Path = typer.Argument(..., help="Model file written by 'genre train'."),
    inputs: list[str] = typer.Argument(..., help="Audio files or folders of audio (or one feature CSV)."),
    output: Optional[str] = _output_option(
        None,
        help=(
            "Also write the predictions to this CSV, and the skipped files to <name>.skipped.csv beside it; "
            "earlier predictions there of the same model are reused for files unchanged since."
        ),
    ),
    jobs: int = typer.Option(1, "--jobs", "-j", help="Parallel feature-extraction processes (-1: all cores)."),
) -> None:
    """Predict the genre of audio files (one answer per file: mean of its segments' probabilities)."""
    with user_errors():
        from rich.markup import escape

        from genre.classifiers.prediction import (
            NOT_ANALYSED,
            PredictionInterrupted,
            check_predictions_output,
            predict,
            skipped_list_path,
            write_predictions,
        )
        from genre.text import plural

        target = None if output is None else output_path(output, what="--output", kind="file")
        if target is not None:
            target = check_predictions_output(target, inputs=[model, *inputs])
        interrupted = None
        try:
            # Earlier predictions at the output resume an interrupted run or update a collection.
            predictions = predict(model, inputs, jobs=jobs, progress=True, reuse=target)
        except PredictionInterrupted as stop:
            # Printed and written like a whole run's, the files not reached listed as skipped.
            predictions, interrupted = stop.partial, stop.interrupt
        written, failure = None, None
        if target is not None:
            try:
                written = write_predictions(predictions, target)
            except GenreError as exc:  # raised after the predictions are printed: they are not lost
                failure = exc
        _print_predictions(
            predictions,
            skipped_csv=None if written is None else skipped_list_path(written),
            unlisted="not written" if target is not None else "give --output to write them all to a CSV",
        )
        if failure is not None:
            raise failure
        if written is not None:
            out.print(f"predictions -> {escape(str(written))}", highlight=False)
            if predictions.attrs.get("skipped"):
                out.print(f"skipped files are listed in {escape(str(skipped_list_path(written)))}", highlight=False)
        if interrupted is not None:
            n_done, n_left = len(predictions), sum(r == NOT_ANALYSED for _, r in predictions.attrs["skipped"])
            where = f" and in {escape(str(written))}" if written is not None else ""
            rerun = "rerun the same command to predict only them" if written is not None else "rerun to predict them"
            # "the predictions of the 0 files finished are above" would point at nothing.
            done = (
                f"the predictions of the {n_done} {plural(n_done, 'file', 'files')} finished are above{where}"
                if n_done else "no file was finished"
            )  # fmt: skip
            _stop_for(
                interrupted,
                f"{done}; the {n_left} not reached {'is' if n_left == 1 else 'are'} listed as skipped; {rerun}",
            )
        if predictions.empty:
            raise typer.Exit(code=1)


def _print_predictions(predictions, *, skipped_csv: Optional[Path], unlisted: str) -> None:
    """Print the warnings, the skipped files, the predictions table and the counts.

    ``skipped_csv`` is the file listing every skipped file, if one was written; else
    ``unlisted`` says why not (see :func:`_print_skipped`).
    """
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    for warning in predictions.attrs.get("warnings", []):
        console.print(f"[yellow]warning[/]: {escape(warning)}", highlight=False)
    skipped = predictions.attrs.get("skipped", [])
    _print_skipped(skipped, listed_in=skipped_csv, unlisted=unlisted)
    if predictions.empty:  # an empty table's header would read as a result
        out.print(f"no file could be predicted; {len(skipped)} skipped", highlight=False)
        return
    below, shown_paths = _shortened_paths([str(path) for path in predictions["path"]])
    if below is not None:
        out.print(f"paths below {escape(below)}", highlight=False)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("path", overflow="fold")
    table.add_column("genre")
    table.add_column("probability", justify="right")
    table.add_column("runner-up", justify="left")
    prob_columns = [c for c in predictions.columns if c.startswith("prob_")]
    for shown, (_, row) in zip(shown_paths, predictions.iterrows()):
        ranked = sorted(prob_columns, key=lambda c: row[c], reverse=True)
        # No runner-up where every other class has probability 0 (a k-NN's unanimous vote):
        # the first of the tied classes at "0%" would look like a second choice.
        runner = f"{ranked[1][5:]} {row[ranked[1]]:.0%}" if len(ranked) > 1 and row[ranked[1]] > 0 else "–"
        # Cells are rich markup too: a path is escaped like a skipped one.
        table.add_row(escape(shown), escape(str(row["genre"])), f"{row['probability']:.0%}", escape(runner))
    out.print(table)
    out.print(f"{len(predictions)} predicted, {len(skipped)} skipped", highlight=False)


def _shortened_paths(paths: list[str]) -> tuple[str | None, list[str]]:
    """The folder all ``paths`` share and each path below it, so that a table of long
    absolute paths stays one line a row; ``(None, paths)`` when they share none.
    The CSV keeps the full paths."""
    import os

    try:
        common = os.path.commonpath(paths) if paths else ""
    except ValueError:  # absolute beside relative, or different drives
        return None, paths
    if common and len(paths) == 1 or common in paths:
        common = os.path.dirname(common)  # a single file: its folder
    if not common or common in (os.sep, "."):
        return None, paths
    return common, [os.path.relpath(path, common) for path in paths]


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":
    main()
