"""The notebooks in docs/ (MyST Markdown notebooks: the quick start and the plot gallery) run
from top to bottom, and every value a cell ends with displays (its ``_repr_html_`` when it has
one), as Jupyter and the documentation build would show it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

DOCS = Path(__file__).resolve().parents[1] / "docs"
_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
NOTEBOOKS = [DOCS / "guides" / "quickstart-notebook.md", DOCS / "gallery.md"]


def _cells(page: Path) -> list[str]:
    return _CELL.findall(page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    cells = _cells(page)
    assert len(cells) >= 5
    namespace: dict[str, object] = {"__name__": f"notebook_{page.stem}"}
    shown: list[object] = []
    try:
        for number, source in enumerate(cells, 1):
            tree = ast.parse(source, filename=f"{page.name} (cell {number})")
            last = tree.body[-1] if tree.body else None
            body = tree.body[:-1] if isinstance(last, ast.Expr) else tree.body
            exec(compile(ast.Module(body=body, type_ignores=[]), f"{page.name} (cell {number})",
                         "exec"), namespace)
            if isinstance(last, ast.Expr):
                value = eval(compile(ast.Expression(last.value), f"{page.name} (cell {number})",
                                     "eval"), namespace)
                html = getattr(value, "_repr_html_", None)
                shown.append(html() if callable(html) else repr(value))
        assert plt.get_fignums(), "the notebook draws its plots"
    finally:
        plt.close("all")
    if page.stem == "quickstart-notebook":
        html_outputs = [s for s in shown if isinstance(s, str) and "crmcore-repr" in s]
        assert len(html_outputs) >= 4  # model, scores and segmentations display as tables
