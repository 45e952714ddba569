"""The one CSV form of every table and list ``genre`` writes: minimal quoting, rows ending in
``"\\n"``, and a cell holding a carriage return quoted (a bare CR would end the row for every
reader, pandas and the csv module alike)."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    import pandas as pd


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """``rows`` as CSV, each row ending in ``"\\n"``, a cell holding a carriage return quoted.

    The one CSV form of every table and list ``genre`` writes (feature tables, skipped lists).
    """
    rows = [list(row) for row in rows]
    if not any(isinstance(cell, str) and "\r" in cell for row in rows for cell in row):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in rows:
            writer.writerow(row)
        return buffer.getvalue()
    # The writer quotes a cell holding a carriage return only if its line terminator holds
    # one: a bare CR in a path, name, label or group would end the row for every reader
    # (pandas, the csv module). Written with CRLF, which quotes it and nothing else more,
    # then each row's terminator put back to "\n".
    lines = []
    for row in rows:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\r\n").writerow(row)
        lines.append(buffer.getvalue().removesuffix("\r\n") + "\n")
    return "".join(lines)


def frame_csv_text(frame: "pd.DataFrame", **to_csv_options: Any) -> str:
    """``frame`` without its index as :func:`csv_text` writes rows, with pandas' cell formatting.

    ``to_csv_options`` are :meth:`pandas.DataFrame.to_csv`'s (``float_format="%.6g"``).
    pandas, like the csv module, quotes a cell holding a carriage return only if its line
    terminator holds one: the frame is written with CRLF, then each row's terminator made ``"\\n"``.
    """
    text = frame.to_csv(index=False, lineterminator="\r\n", **to_csv_options)
    between_rows = text.replace("\r\n", "")
    if "\r" not in between_rows and "\n" not in between_rows:  # no cell holds a line break
        return text.replace("\r\n", "\n")
    return csv_text(csv.reader(io.StringIO(text, newline="")))
