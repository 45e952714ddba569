"""Lay out report blocks as one self-contained HTML page (inline CSS, base64 plots)."""

from __future__ import annotations

import base64
import html
from typing import Mapping, Sequence

from genre.reports.content import Block, numeric_columns

__all__ = ["render_html"]

_CSS = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       max-width: 1100px; margin: 2em auto; padding: 0 1.5em; }
h1 { font-size: 1.6em; border-bottom: 1px solid #d0d7de; padding-bottom: .3em; }
h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
.scroll { overflow-x: auto; margin: 1em 0; }
table { border-collapse: collapse; font-size: .92em; }
th, td { border: 1px solid #d0d7de; padding: .3em .7em; }
th { background: #f6f8fa; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fbfcfd; }
.note { background: #fff8c5; border-left: 4px solid #d4a72c; padding: .6em 1em; margin: 1em 0; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; height: auto; }
figcaption { color: #59636e; font-size: .9em; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; white-space: pre-wrap; }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    numeric = list(numeric if numeric is not None else numeric_columns(rows))
    numeric += [False] * (max((len(r) for r in rows), default=0) - len(numeric))
    body = []
    for row in rows:
        cells = [
            f'<td class="num">{html.escape(str(c))}</td>' if numeric[i] else f"<td>{html.escape(str(c))}</td>"
            for i, c in enumerate(row)
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    # Wide tables (many folds, long labels) scroll sideways instead of spilling over the page.
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def render_html(blocks: Sequence[Block], images: Mapping[str, bytes], *, title: str) -> str:
    """The HTML text of a report, with every image embedded.

    Parameters
    ----------
    blocks : sequence of Block
        From :func:`genre.reports.content.build_document`.
    images : mapping of str to bytes
        PNG bytes by file name (``block.image``).
    title : str
        Page title.

    Returns
    -------
    text : str
        A page that loads nothing from elsewhere (no external ``src`` or ``href``).
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_CSS}</style></head><body>",
    ]
    for block in blocks:
        text = html.escape(block.text)
        if block.kind == "h1":
            parts.append(f"<h1>{text}</h1>")
        elif block.kind == "h2":
            parts.append(f"<h2>{text}</h2>")
        elif block.kind == "p":
            parts.append(f"<p>{text}</p>")
        elif block.kind == "note":
            parts.append(f'<p class="note">{text}</p>')
        elif block.kind == "list":
            parts.append("<ul>" + "".join(f"<li>{html.escape(r[0])}</li>" for r in block.rows) + "</ul>")
        elif block.kind == "table":
            parts.append(_table(block.header, block.rows, block.numeric))
        elif block.kind == "image":
            data = base64.b64encode(images[block.image]).decode("ascii")
            alt = html.escape(block.alt or block.text)  # quote=True: safe inside the attribute
            parts.append(
                f'<figure><img alt="{alt}" src="data:image/png;base64,{data}"><figcaption>{text}</figcaption></figure>'
            )
        elif block.kind == "code":
            parts.append(f"<pre><code>{text}</code></pre>")
        else:
            raise ValueError(f"unknown report block {block.kind!r}")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
