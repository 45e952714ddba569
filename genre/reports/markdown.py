"""Lay out report blocks as GitHub-flavoured Markdown (plots linked as PNG files beside it).

Block text is plain text: labels, model and file names come from the user's data, so every
character Markdown (or GitHub's extensions: tables, strikethrough, math, raw HTML) would
read as markup is escaped, and the text shows on GitHub exactly as in the HTML report.
"""

from __future__ import annotations

import re
from typing import Sequence

from genre.reports.content import Block, numeric_columns

__all__ = ["render_markdown", "escape_inline"]

# Always markup: backslash, code, emphasis, strikethrough, GitHub math ($...$).
_ALWAYS = re.compile(r"([\\`*~$])")
# Markup only in context; escaped there and left readable elsewhere ("p < 0.05", "R&B",
# "[71.7, 77.3]", "n_test/n_train"):
_CONTEXT = re.compile(
    r"<(?=[A-Za-z/!?])"  # raw HTML (<script>, </b>, <!-- -->) and autolinks (<http://...>)
    r"|&(?=#?\w+;)"  # character references (&amp; &#60;)
    r"|\](?=[(\[:])"  # links and images [text](url), [text][ref], definitions [ref]: url
    r"|(?<!\w)_+|_+(?!\w)"  # emphasis with _ (a run inside a word, file_name_1, is no markup)
)
# Block syntax at the start of a line: heading, quote, list item or rule, setext underline,
# ordered list item ("1." is escaped as "1\.").
_LINE_START = re.compile(r"^(\s*)([#>+=-])|^(\s*\d+)([.)])")


def escape_inline(text: object, *, line_start: bool = True) -> str:
    """``text`` as Markdown that renders as exactly this text, on one line.

    ``line_start=False`` for text that cannot begin a block (a table cell), where a
    leading ``-`` or ``#`` is no markup and stays unescaped.
    """
    text = " ".join(str(text).splitlines())  # a newline would end the paragraph or table row
    text = _ALWAYS.sub(r"\\\1", text)
    text = _CONTEXT.sub(lambda m: "".join("\\" + c for c in m.group(0)), text)
    if line_start:
        text = _LINE_START.sub(lambda m: "\\".join(g for g in m.groups() if g is not None), text, count=1)
    return text


def _cell(text: object) -> str:
    # A pipe would end the cell, even inside code.
    return escape_inline(text, line_start=False).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] | None) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in header) + " |"]
    numeric = list(numeric if numeric is not None else numeric_columns(rows)) or [False] * len(header)
    numeric += [False] * (len(header) - len(numeric))
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
        text = escape_inline(block.text)
        if block.kind == "h1":
            lines += [f"# {text.replace('#', chr(92) + '#')}", ""]  # a trailing "#" would be dropped
        elif block.kind == "h2":
            lines += [f"## {text.replace('#', chr(92) + '#')}", ""]
        elif block.kind == "p":
            lines += [text, ""]
        elif block.kind == "note":
            lines += [f"> **{text}**" if len(block.text) < 200 else f"> {text}", ""]
        elif block.kind == "list":
            lines += [f"- {escape_inline(row[0])}" for row in block.rows] + [""]
        elif block.kind == "table":
            lines += _table(block.header, block.rows, block.numeric) + [""]
        elif block.kind == "image":
            # Plot file names are plain ASCII (see content.plot_names): a relative link that
            # still works when the folder is moved. The alt text is not shown on the page, so
            # the caption follows as a paragraph of its own (render.py reads the link line alone).
            alt = escape_inline(block.alt or block.text)
            lines += [f"![{alt}]({block.image})", "", text, ""]
        elif block.kind == "code":
            lines += ["```", block.text, "```", ""]
        else:  # a block kind added to content.py but not here yet
            raise ValueError(f"unknown report block {block.kind!r}")
    return "\n".join(lines).rstrip() + "\n"
