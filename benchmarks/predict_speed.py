"""How long does ``genre predict`` take per clip, and what does a CNN model's prediction cost?

Trains two small models on a few ``../shared/data/gtzan-mini`` clips (an SVM on handcrafted
features and a small log-mel CNN), then times ``predict_files`` on other clips of the same
folder, in one process, after a warm-up (TensorFlow's import and the model load are not
counted), with the CNN's mel cache cold in every repeat.

For the CNN it also times what its prediction no longer does: the full handcrafted
extraction of each clip, which used to run only to learn where the table's segments start
(now the segments are placed from the decoded length alone).

Usage::

    python benchmarks/predict_speed.py [--data ../shared/data] [--clips 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

#: A CNN small enough to train in seconds: only its prediction time matters here.
SMALL_CNN = {"filters": (8, 16), "dense_units": 16, "max_epochs": 2, "patience": 1, "batch_size": 16}


def _best_of(repeats: int, run) -> float:
    """Shortest wall time of ``repeats`` calls of ``run()`` (the least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    parser.add_argument("--clips", type=int, default=20, help="clips to predict (2 per genre are kept for training)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    mini = args.data / "gtzan-mini"
    if not mini.is_dir():
        parser.error(f"{mini}: not found (the shared data); pass --data")
    work = Path(tempfile.mkdtemp(prefix="genre-predict-speed-"))
    os.environ["GENRE_DATA_HOME"] = str(work / "home")  # mel cache of this run only

    from genre.classifiers.prediction import predict_files
    from genre.classifiers.training import train_model
    from genre.features.extract import extract_to_csv
    from genre.features.handcrafted import HandcraftedExtractor
    from genre.features.melpatches import clear_memory_cache

    by_genre = {folder.name: sorted(folder.glob("*.wav")) for folder in sorted(mini.iterdir()) if folder.is_dir()}
    manifest = work / "train.csv"
    manifest.write_text(
        "path,label\n" + "".join(f"{f},{g}\n" for g, files in by_genre.items() for f in files[:2]), encoding="utf-8"
    )
    others = [f for files in by_genre.values() for f in files[2:]]
    clips = [str(f) for f in others[:: max(1, len(others) // args.clips)][: args.clips]]

    extract_to_csv(manifest, work / "features.csv", jobs=1)
    models = {
        "svm": train_model(work / "features.csv", model="svm", output=work / "svm.genre").output,
        "cnn": train_model(work / "features.csv", model="cnn", output=work / "cnn.genre", params=SMALL_CNN).output,
    }
    for model in models.values():
        predict_files(model, clips[:1])  # warm-up: imports, model load

    def cnn_cold() -> None:
        os.environ["GENRE_DATA_HOME"] = tempfile.mkdtemp(prefix="home-", dir=work)
        clear_memory_cache()
        predict_files(models["cnn"], clips)

    seconds = {
        "svm (handcrafted features)": _best_of(args.repeats, lambda: predict_files(models["svm"], clips)),
        "cnn (log-mel patches, mel cache cold)": _best_of(args.repeats, cnn_cold),
        "handcrafted extraction alone (what cnn predict no longer runs)": _best_of(
            args.repeats, lambda: [HandcraftedExtractor().extract_file(c) for c in clips]
        ),
    }
    print(f"{len(clips)} gtzan-mini clips, best of {args.repeats}, one process (--jobs 1):")
    for what, total in seconds.items():
        print(f"  {what:>64}: {total / len(clips):.3f} s/clip")
    cnn, extraction = seconds["cnn (log-mel patches, mel cache cold)"], seconds[
        "handcrafted extraction alone (what cnn predict no longer runs)"
    ]
    print(f"cnn predict with the extraction it used to run: about {(cnn + extraction) / cnn:.2f}x its time now")


if __name__ == "__main__":
    main()
