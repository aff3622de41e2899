"""The arrows of docs/architecture.md: app_pages -> viz -> engine; engine knows no UI, viz no
Streamlit."""

import ast
import re
from pathlib import Path

import pytest

import texts

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "engine").glob("*.py")), ids=lambda p: p.name)
def test_engine_imports_no_ui(path):
    assert not imported_modules(path) & {"streamlit", "plotly", "viz", "app_pages", "texts"}


@pytest.mark.parametrize("path", sorted((ROOT / "viz").glob("*.py")), ids=lambda p: p.name)
def test_viz_imports_no_streamlit(path):
    assert not imported_modules(path) & {"streamlit", "app_pages"}


def test_no_legacy_pages_folder():
    # a folder named pages/ switches Streamlit to its legacy file-name navigation
    assert not (ROOT / "pages").exists()


SOURCES = [ROOT / "app.py", *(ROOT / "app_pages").glob("*.py"), *(ROOT / "viz").glob("*.py")]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_text_key_exists_in_english(path):
    keys = re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8"))
    missing = [key for key in keys if not texts.has(key)]
    assert not missing, f"{path.name} uses keys missing from assets/i18n/en.toml: {missing}"


@pytest.mark.parametrize("path", [*(ROOT / "engine").glob("*.py"), *SOURCES], ids=lambda p: p.name)
def test_nothing_typed_is_run_as_code(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    }
    assert not calls & {"eval", "exec", "compile", "__import__"}
