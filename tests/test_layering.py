"""The package layout is a map of the architecture: each package imports only the layers
below it, lazily imported modules included, so a reader knows from a file's path what it
may depend on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "genre"

#: What each part of genre may import besides the shared base modules (errors, text, ...).
ALLOWED: dict[str, set[str]] = {
    "data": set(),
    "features": {"data"},
    "classifiers": {"data", "features"},
    "evaluation": {"data", "features", "classifiers"},
    "reports": {"evaluation", "classifiers"},
    "benchmark": {"data", "features", "classifiers", "evaluation", "reports"},
    "cli": {"data", "features", "classifiers", "evaluation", "reports", "benchmark"},
}
BASE = {"errors", "text", "csvtext", "atomic", "progress", "tensorflow_quiet", "stderr_capture", "__init__"}


def part_of(module: str) -> str | None:
    """``genre.features.table`` -> ``features``; ``None`` outside genre."""
    names = module.split(".")
    if names[0] != "genre":
        return None
    return names[1] if len(names) > 1 else "__init__"


def genre_imports(path: Path) -> set[tuple[str, int]]:
    """Every genre module ``path`` imports, at the top or inside a function, with its line."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {(alias.name, node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add((node.module, node.lineno))
    return {(name, line) for name, line in found if name.split(".")[0] == "genre"}


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_imports_only_the_layers_below_it(path):
    relative = path.relative_to(PACKAGE)
    own = relative.parts[0] if len(relative.parts) > 1 else relative.stem
    if own in BASE:
        allowed = BASE
    else:
        allowed = ALLOWED[own] | BASE | {own}
    wrong = sorted(
        f"{relative}:{line} imports {name}"
        for name, line in genre_imports(path)
        if part_of(name) not in allowed
    )
    assert not wrong, "\n".join(wrong)


def test_every_part_has_a_rule():
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in MODULES}
    assert parts <= set(ALLOWED) | BASE, parts - set(ALLOWED) - BASE
