"""Wording shared by the messages of every part of ``genre`` (features, evaluation, CLI)."""

from __future__ import annotations


def plural(n: float, one: str, many: str) -> str:
    """``one`` or ``many``, whichever goes with ``n``: ``f"{n} {plural(n, 'file', 'files')}"``.

    Parameters
    ----------
    n : int or float
        The count the words are about (a float for degrees of freedom).
    one, many : str
        The words for exactly one, and for any other count (none included).

    Returns
    -------
    str
    """
    return one if n == 1 else many
