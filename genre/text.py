"""Wording shared by every part of ``genre`` (features, evaluation, CLI): messages, and names as the command line writes them."""

from __future__ import annotations

from typing import Iterable


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


def name_list(names: str | Iterable[str]) -> list[str]:
    """Names as a list: a str is comma-separated, as ``--models`` and ``--drop`` take them.

    ``"svm,logreg"`` -> ``["svm", "logreg"]`` (stripped, empty items dropped: ``"svm,"`` is
    ``["svm"]``), and one name is a list of one, never its letters. Any other iterable holds
    one name per item and is taken as it is (a column name may hold a comma there). The
    command line's repeated options are ``[n for value in values for n in name_list(value)]``.

    Parameters
    ----------
    names : str or iterable of str

    Returns
    -------
    list of str
    """
    if isinstance(names, str):
        return [name.strip() for name in names.split(",") if name.strip()]
    return list(names)
