"""The benchmark's fits, counted and interruptible as Ctrl-C would interrupt them (resume tests)."""

from __future__ import annotations

import genre.evaluation.cv as cv


def count_fits(monkeypatch):
    """Replace the cross-validation's fit by one that records each (model, split) and its output.

    The returned object's ``calls`` and ``outputs`` fill as fits run; ``fail_at = n`` makes the
    n-th fit raise KeyboardInterrupt, ``stop_at = model`` that model's next fit (each once).
    """
    real = cv._fit_predict

    class Fits:
        calls: list[tuple[str, int]] = []
        outputs: list = []
        fail_at: int | None = None
        stop_at: str | None = None

    def counted(**call):
        if Fits.fail_at is not None and len(Fits.calls) + 1 == Fits.fail_at:
            Fits.fail_at = None
            raise KeyboardInterrupt
        if call["model"] == Fits.stop_at:
            Fits.stop_at = None
            raise KeyboardInterrupt
        Fits.calls.append((call["model"], call["split_index"]))
        output = real(**call)
        Fits.outputs.append(output)
        return output

    monkeypatch.setattr(cv, "_fit_predict", counted)
    return Fits
