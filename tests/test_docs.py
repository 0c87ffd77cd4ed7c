"""The documentation's Python examples run, and importing crmcore stays light."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
README = DOCS.parent / "README.md"
PAGES = [README, *sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts and
                         _BLOCK.search(p.read_text(encoding="utf-8")))]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS.parent)) for p in PAGES])
def test_page_examples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each page's ```python blocks run in order in one namespace, as a reader would run them."""
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for number, block in enumerate(_BLOCK.findall(page.read_text(encoding="utf-8")), 1):
        code = compile(block, f"{page.relative_to(DOCS.parent)} (block {number})", "exec")
        exec(code, namespace)


def test_import_is_light() -> None:
    heavy = ("pandas", "polars", "pyarrow", "dask", "lifetimes", "matplotlib")
    probe = ("import sys, crmcore; "
             f"print(','.join(m for m in {heavy!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == ""
