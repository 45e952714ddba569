"""A manifest of six short tones in two made-up classes, for tests of what the CLI says about a manifest."""

from __future__ import annotations

from pathlib import Path

import soundfile as sf

from tests.conftest import tone


def write_tone_manifest(
    root: Path, *, header: str = "path,label,artist", artists: dict[str, str] | None = None, extra: str = ""
) -> Path:
    """``root/songs.csv`` of six 3.2 s tones, low0..low2 and high0..high2, under ``root/audio``.

    ``header`` names the path, label and artist columns (in any case); ``artists`` maps a track name
    to its artist (default: one artist per track); ``extra`` adds a column of that name holding ``x``.
    """
    rows = [header + (f",{extra}" if extra else "")]
    for label, base in (("low", 180.0), ("high", 2400.0)):
        for i in range(3):
            name = f"{label}{i}"
            path = root / "audio" / f"{name}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, tone(3.2, freq=base + 37 * i, seed=i), 22050)
            artist = (artists or {}).get(name, f"artist-{name}")
            rows.append(f"audio/{name}.wav,{label},{artist}" + (",x" if extra else ""))
    manifest = root / "songs.csv"
    manifest.write_text("\n".join(rows) + "\n")
    return manifest
