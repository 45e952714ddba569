"""Which table each model reads, and one set of tracks shared by all of them.

A benchmark may be given several tables of the same tracks: handcrafted features,
pretrained musicnn embeddings, and (through the handcrafted table's id columns) the
audio itself for models that learn from spectrograms. Each registered model declares
what it reads in its spec's ``input`` attribute (default ``"handcrafted"``) and may
narrow the columns with ``input_columns`` (a column-name prefix). This module picks
the table for every model, matches the tables on track ids, keeps the tracks present
in all of them, and gives each model its rows of those tracks, so every model is
cross-validated on the very same folds and the paired tests between models stay valid.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from genre.errors import DataError
from genre.evaluation.splits import Split
from genre.features.table import FeatureTable, audio_segment_ids, model_columns
from genre.text import plural

__all__ = ["ModelInput", "InputPlan", "plan_inputs", "model_input_kind", "remap_split"]

#: What a model reads when its spec says nothing: numeric columns of any feature table
#: (``ModelSpec.input``'s default).
DEFAULT_INPUT = "features"
#: Table kinds a model reading ``"features"`` prefers, in order.
_FEATURE_KINDS: tuple[str, ...] = ("handcrafted", "external")


def model_input_kind(spec: Any) -> str:
    """The input a registered model reads: ``"features"``, ``"musicnn"``, ``"audio"``..."""
    return str(getattr(spec, "input", DEFAULT_INPUT) or DEFAULT_INPUT)


@dataclass
class ModelInput:
    """What one model is fitted on.

    Attributes
    ----------
    kind : str
        The input the model asked for.
    table : FeatureTable
        Its table restricted to the common tracks (``tracks`` = the shared track keys).
    X : numpy.ndarray or pandas.DataFrame
        Feature matrix, or for ``audio`` models a DataFrame of segment ids (``path``,
        ``start`` in seconds, ``track``), row-aligned with ``table``.
    description : str
        What the report shows in the model's ``input`` column.
    """

    kind: str
    table: FeatureTable
    X: Any
    description: str


@dataclass
class InputPlan:
    """Every model's input, the table the splits are drawn from, and what was dropped.

    Attributes
    ----------
    inputs : dict
        Model name -> :class:`ModelInput`.
    reference : FeatureTable
        The (aligned) table whose tracks, labels and groups the splits are made over.
    n_common : int
        Tracks present in every table a model reads.
    dropped : dict
        Table file name -> number of its tracks missing from another table (left out).
    key : str
        ``"track"`` or ``"stem"``: what the tables were matched on.
    tables : list of dict
        One line per table used: path, kind, tracks, rows.
    """

    inputs: dict[str, ModelInput]
    reference: FeatureTable
    n_common: int
    dropped: dict[str, int] = field(default_factory=dict)
    key: str = "track"
    tables: list[dict[str, Any]] = field(default_factory=list)

    @property
    def n_dropped(self) -> int:
        """Tracks of some table left out because another table lacks them."""
        return int(self._n_union - self.n_common)

    _n_union: int = 0

    def sentence(self) -> str:
        """One sentence for the report's protocol description ('' for a single table)."""
        if len(self.tables) < 2:
            return ""
        names = ", ".join(f"{t['name']} ({t['kind']})" for t in self.tables)
        text = (
            f"Inputs: {names}, matched on {self.key} ids; folds are built once over the {self.n_common} tracks "
            "present in every input, so all models are scored on the same folds"
        )
        if self.n_dropped:
            detail = ", ".join(f"{n} of {name}" for name, n in self.dropped.items() if n)
            text += f" ({self.n_dropped} {plural(self.n_dropped, 'track', 'tracks')} left out: {detail})"
        return text + "."


# -- choosing a table ---------------------------------------------------------------------------
def _pick_table(model: str, kind: str, tables: Sequence[FeatureTable]) -> FeatureTable:
    """The table model ``model`` reads for input ``kind``."""
    exact = [t for t in tables if t.kind == kind]
    if exact:
        return exact[0]
    if kind in (DEFAULT_INPUT, "audio"):
        # Audio models read the segment ids of the handcrafted table (any table with paths).
        for accepted in _FEATURE_KINDS:
            found = [t for t in tables if t.kind == accepted]
            if found:
                return found[0]
        if len(tables) == 1:
            return tables[0]  # one table given: feature models read it, whatever it holds
    given = ", ".join(f"{t.name} ({t.kind})" for t in tables)
    from genre.features.embeddings import EMBEDDING_MODELS

    hint = ""
    if kind in EMBEDDING_MODELS:
        # CLI users first: the command that writes such a table (the Python class second).
        hint = (
            f" (write one with 'genre extract AUDIO -o {kind}.csv --embeddings {kind}' and give it too, e.g. "
            f"'genre benchmark features.csv {kind}.csv'; from Python: "
            f"genre.features.embeddings.MusicnnExtractor(name={kind!r}))"
        )
    raise DataError(f"model {model} reads a {kind} table; none of the tables given is one: {given}{hint}")


# -- matching tables ----------------------------------------------------------------------------
def _keys(tables: Sequence[FeatureTable]) -> tuple[str, list[np.ndarray]]:
    """Per-row match keys: track ids when they line up, file stems when only those do."""
    by_track = [t.tracks.astype(str) for t in tables]
    if len(tables) == 1:
        return "track", by_track
    by_stem = [t.stems.astype(str) for t in tables]
    common_tracks = set.intersection(*(set(k) for k in by_track))
    common_stems = set.intersection(*(set(k) for k in by_stem))
    stems_unique = all(
        pd.Series(t.stems).groupby(t.tracks).first().duplicated().sum() == 0 for t in tables
    )
    if len(common_stems) > len(common_tracks) and stems_unique:
        return "stem", by_stem
    return "track", by_track


def _subset(table: FeatureTable, rows: np.ndarray, keys: np.ndarray) -> FeatureTable:
    """The rows ``rows`` of ``table``, with the shared keys as track ids."""
    return dataclasses.replace(
        table,
        X=table.X.iloc[rows].reset_index(drop=True),
        y=table.y[rows],
        tracks=keys[rows],
        stems=table.stems[rows],
        groups=None if table.groups is None else table.groups[rows],
        ungrouped=None if table.ungrouped is None else table.ungrouped[rows],
    )


def plan_inputs(
    tables: Sequence[FeatureTable],
    specs: Mapping[str, Any],
    *,
    note: Callable[[str], None] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
) -> InputPlan:
    """Give every model its table, restricted to the tracks all used tables share.

    Parameters
    ----------
    tables : sequence of FeatureTable
        Labelled tables of (mostly) the same tracks.
    specs : mapping
        Model name -> its registry spec (``input``, ``input_columns``).
    note : callable, optional
        Receives one line about tracks left out or tables no model reads.
    params : mapping, optional
        Model name -> the parameters it will be fitted with; an audio model's patch length
        depends on them (default: the registered defaults).

    Returns
    -------
    InputPlan

    Raises
    ------
    DataError
        A model's input is not among the tables; an audio model's table has no readable
        paths, or rows longer than the log-mel patch the model reads at each (one row per
        track: see :func:`genre.classifiers.cnn.check_table_patches`); the tables share no
        track; a track has different labels in two tables.
    """
    picks = {name: _pick_table(name, model_input_kind(spec), tables) for name, spec in specs.items()}
    used: list[FeatureTable] = []
    for table in picks.values():
        if not any(table is u for u in used):
            used.append(table)
    unused = [t.name for t in tables if not any(t is u for u in used)]
    if unused and note is not None:
        note(f"no model reads {', '.join(unused)}")
    _check_patch_tables(picks, specs, params=params or {})

    key_name, keys = _keys(used)
    common = set.intersection(*(set(k) for k in keys))
    union = set.union(*(set(k) for k in keys))
    if not common:
        names = ", ".join(t.name for t in used)
        examples = "; ".join(f"{t.name}: {k[0]!r}" for t, k in zip(used, keys))
        raise DataError(f"the tables {names} share no track (ids look like {examples})")
    dropped = {t.name: len(set(k) - common) for t, k in zip(used, keys)}
    aligned: list[FeatureTable] = []
    rows_of: list[np.ndarray] = []
    for table, k in zip(used, keys):
        rows = np.flatnonzero(np.isin(k, list(common)))
        rows_of.append(rows)
        aligned.append(_subset(table, rows, k))
    _check_labels(aligned)
    if len(union) > len(common) and note is not None:
        detail = ", ".join(f"{n} of {name}" for name, n in dropped.items() if n)
        note(f"{len(union) - len(common)} tracks are not in every input and are left out ({detail})")

    inputs: dict[str, ModelInput] = {}
    audio_ids: dict[int, pd.DataFrame] = {}
    for name, spec in specs.items():
        position = next(i for i, u in enumerate(used) if u is picks[name])
        table = aligned[position]
        kind = model_input_kind(spec)
        if kind == "audio":
            if position not in audio_ids:
                ids = audio_segment_ids(used[position], model=name).iloc[rows_of[position]]
                audio_ids[position] = ids.reset_index(drop=True)
            X = audio_ids[position]
            description = f"{table.name} (audio, log-mel patches)"
        else:
            columns, what = model_columns(table, model=name, prefix=getattr(spec, "input_columns", None))
            X = table.X[columns].to_numpy(dtype=float)
            description = f"{table.name} ({table.kind}, {what})"
        inputs[name] = ModelInput(kind=kind, table=table, X=X, description=description)

    # Splits follow the table with groups (artists) if any has them, so no input loses them.
    reference = next((t for t in aligned if t.groups is not None), aligned[0])
    plan = InputPlan(
        inputs=inputs,
        reference=reference,
        n_common=len(common),
        dropped=dropped,
        key=key_name,
        tables=[
            {"path": str(u.path), "name": u.name, "kind": u.kind, "n_tracks": u.n_tracks, "n_rows": u.n_rows,
             "n_dropped": dropped[u.name]}
            for u in used
        ],  # fmt: skip
    )
    plan._n_union = len(union)
    return plan


def _check_patch_tables(
    picks: Mapping[str, FeatureTable], specs: Mapping[str, Any], *, params: Mapping[str, Mapping[str, Any]]
) -> None:
    """Refuse, before any audio is looked for, a table whose rows are longer than its audio models' patches.

    The CNN models read one fixed-length patch at each row's start: whole-track rows would
    train them on each track's first seconds only. All of a table's audio models are named
    in one message.
    """
    readers: dict[int, list[str]] = {}
    for name, spec in specs.items():
        if model_input_kind(spec) == "audio":
            readers.setdefault(id(picks[name]), []).append(name)
    if not readers:
        return
    from genre.classifiers.cnn import check_table_patches

    for names in readers.values():
        # Built only to read the patch length off its parameters (cheap: no network yet).
        estimators = {name: specs[name].build(**dict(params.get(name, {}))) for name in names}
        check_table_patches(picks[names[0]], estimators=estimators)


def _check_labels(tables: Sequence[FeatureTable]) -> None:
    """A track must carry the same label in every table."""
    if len(tables) < 2:
        return
    first = pd.Series(tables[0].y, index=tables[0].tracks)
    first = first[~first.index.duplicated()]
    for other in tables[1:]:
        labels = pd.Series(other.y, index=other.tracks)
        labels = labels[~labels.index.duplicated()]
        differ = labels[labels != first.reindex(labels.index)]
        if len(differ):
            track = differ.index[0]
            raise DataError(
                f"{len(differ)} tracks have different labels in {tables[0].name} and {other.name} "
                f"(e.g. {track!r}: {first[track]!r} vs {differ.iloc[0]!r})"
            )


def remap_split(split: Split, table: FeatureTable) -> Split:
    """The same train/test tracks as ``split``, as row indices of another aligned table."""
    train = np.flatnonzero(np.isin(table.tracks, split.train_tracks))
    test = np.flatnonzero(np.isin(table.tracks, split.test_tracks))
    return dataclasses.replace(split, train=train, test=test)
