"""Lay out report blocks as GitHub-flavoured Markdown (plots linked as PNG files beside it)."""

from __future__ import annotations

from typing import Sequence

from genre.reports.content import Block, numeric_columns

__all__ = ["render_markdown"]


def _cell(text: str) -> str:
    # A pipe would end the cell and a newline the row.
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    numeric = numeric_columns(rows) or [False] * len(header)
    lines.append("|" + "|".join(" ---: " if n else " --- " for n in numeric) + "|")
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines


def render_markdown(blocks: Sequence[Block]) -> str:
    """The Markdown text of a report.

    Parameters
    ----------
    blocks : sequence of Block
        From :func:`genre.reports.content.build_document`.

    Returns
    -------
    text : str
    """
    lines: list[str] = []
    for block in blocks:
        if block.kind == "h1":
            lines += [f"# {block.text}", ""]
        elif block.kind == "h2":
            lines += [f"## {block.text}", ""]
        elif block.kind == "p":
            lines += [block.text, ""]
        elif block.kind == "note":
            lines += [f"> **{block.text}**" if len(block.text) < 200 else f"> {block.text}", ""]
        elif block.kind == "list":
            lines += [f"- {row[0]}" for row in block.rows] + [""]
        elif block.kind == "table":
            lines += _table(block.header, block.rows) + [""]
        elif block.kind == "image":
            lines += [f"![{block.text}]({block.image})", ""]
        elif block.kind == "code":
            lines += ["```", block.text, "```", ""]
        else:  # a block kind added to content.py but not here yet
            raise ValueError(f"unknown report block {block.kind!r}")
    return "\n".join(lines).rstrip() + "\n"
