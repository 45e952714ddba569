"""Small synthetic feature tables, written in GTZAN's layouts or in genre's own, for tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

GENRES = ("blues", "classical", "jazz", "metal")


def class_features(
    *,
    labels: tuple[str, ...] = GENRES,
    tracks_per_class: int = 12,
    segments: int = 1,
    n_features: int = 6,
    separation: float = 2.0,
    seed: int = 0,
) -> tuple[np.ndarray, list[str], list[int], list[int]]:
    """Features with a class signal: returns values, label per row, track number per row, segment per row."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, separation, size=(len(labels), n_features))
    values, row_labels, track_numbers, segment_numbers = [], [], [], []
    for c, label in enumerate(labels):
        for t in range(tracks_per_class):
            track_centre = centres[c] + rng.normal(0, 0.7, n_features)  # tracks vary within a class
            for s in range(segments):
                values.append(track_centre + rng.normal(0, 0.5, n_features))
                row_labels.append(label)
                track_numbers.append(t)
                segment_numbers.append(s)
    return np.array(values), row_labels, track_numbers, segment_numbers


def write_gtzan_table(path: Path, *, segments: int = 1, **kwargs) -> Path:
    """A table in the layout of GTZAN's features_30_sec.csv (segments=1) or features_3_sec.csv."""
    values, labels, tracks, segs = class_features(segments=segments, **kwargs)
    if segments == 1:
        names = [f"{label}.{t:05d}.wav" for label, t in zip(labels, tracks)]
    else:
        names = [f"{label}.{t:05d}.{s}.wav" for label, t, s in zip(labels, tracks, segs)]
    frame = pd.DataFrame(values, columns=[f"mfcc{i + 1}_mean" for i in range(values.shape[1])])
    frame.insert(0, "length", 661794 if segments == 1 else 66149)
    frame.insert(0, "filename", names)
    frame["label"] = labels
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    return path


def write_own_table(
    path: Path,
    *,
    segments: int = 3,
    groups_per_class: int | None = None,
    sidecar: bool = True,
    **kwargs,
) -> Path:
    """A table as ``genre extract`` writes it, with its JSON sidecar; optional artist groups."""
    values, labels, tracks, segs = class_features(segments=segments, **kwargs)
    columns = [f"mfcc_{i + 1:02d}_mean" for i in range(values.shape[1])]
    track_ids = [f"{label}/{label}.{t:05d}" for label, t in zip(labels, tracks)]
    if groups_per_class:
        groups = [f"{label}-artist{t % groups_per_class}" for label, t in zip(labels, tracks)]
    else:
        groups = [""] * len(labels)
    frame = pd.DataFrame(
        {
            "path": [f"/audio/{tid}.wav" for tid in track_ids],
            "track": track_ids,
            "segment": segs,
            "start": [3.0 * s for s in segs],
            "label": labels,
            "group": groups,
        }
    )
    frame = pd.concat([frame, pd.DataFrame(values, columns=columns)], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False)
    if sidecar:
        meta = {
            "format": "genre-features/1",
            "kind": "handcrafted",
            "config": {"sr": 22050, "segment_seconds": 3.0},
            "id_columns": ["path", "track", "segment", "start", "label", "group"],
            "feature_columns": columns,
            "labels": sorted(set(labels)),
            "n_tracks": len(set(track_ids)),
            "n_rows": len(frame),
        }
        path.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return path


def write_list(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table_with_bad_cells(path: Path, bad: dict[int, object] | None = None) -> Path:
    """An external table (``filename,a,b,c,label``) of 12 clips of two classes; ``bad``: row -> value of ``b``."""
    rng = np.random.default_rng(0)
    labels = np.repeat(["rock", "pop"], 6)
    frame = pd.DataFrame(rng.normal(size=(12, 3)), columns=["a", "b", "c"])
    frame["a"] += 4.0 * (labels == "rock")
    frame.insert(0, "filename", [f"clip{i:02d}.wav" for i in range(12)])
    frame["label"] = labels
    frame["b"] = frame["b"].astype(object)
    for row, value in (bad or {}).items():
        frame.loc[row, "b"] = value
    frame.to_csv(path, index=False)
    return path
