"""Rendering benchmark results to JSON, Markdown and self-contained HTML with plots."""

from genre.evaluation.results import load_results
from genre.reports.render import ReportFiles, render_report

__all__ = ["render_report", "load_results", "ReportFiles"]
