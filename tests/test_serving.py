"""What a shared classroom server relies on: no traceback reaches a student, uploads are
bounded where the engine bounds them, the XSRF/CORS defaults stay, and every cache has a
size."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.elements import exception as st_exception
from streamlit.proto.Exception_pb2 import Exception as ExceptionProto

from engine import datasets

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
SOURCES = sorted([ROOT / "app.py", ROOT / "texts.py", *(ROOT / "app_pages").glob("*.py"),
                  *(ROOT / "viz").glob("*.py"), *(ROOT / "engine").glob("*.py")])
# functools caches allowed without a size, because their keys come from a small fixed set
UNSIZED_OK = {
    ("texts.py", "strings"): "one entry per language file",
    ("texts.py", "languages"): "one entry: the language files of the installed app",
    ("encode.py", "template"): "one entry per Plotly template name used in viz/",
}


@pytest.fixture
def error_details():
    before = st_config.get_option("client.showErrorDetails")
    st_config.set_option("client.showErrorDetails", CONFIG["client"]["showErrorDetails"])
    yield
    st_config.set_option("client.showErrorDetails", before)


def test_a_student_never_sees_a_traceback(error_details):
    assert CONFIG["client"]["showErrorDetails"] == "none"
    try:
        raise ValueError("/srv/descent-lab/app_pages/race.py: internal detail")
    except ValueError as exc:
        proto = ExceptionProto()
        # what Streamlit does with an exception the script did not catch
        st_exception.marshall(proto, exc, apply_show_error_details=True)
    assert not proto.stack_trace
    assert not proto.type
    assert "internal detail" not in proto.message and "/srv" not in proto.message
    assert proto.message  # a short generic message says something went wrong


def test_upload_size_is_the_engines_bound():
    # Streamlit's uploader refuses (and says) more than server.maxUploadSize megabytes;
    # the engine refuses the same bytes again if anything else hands it a file
    assert CONFIG["server"]["maxUploadSize"] * 2**20 == datasets.MAX_UPLOAD_BYTES


def test_xsrf_and_cors_defaults_are_kept():
    server = CONFIG.get("server", {})
    assert server.get("enableXsrfProtection", True) is True
    assert server.get("enableCORS", True) is True


def _cache_decorators(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                name = target.attr if isinstance(target, ast.Attribute) else getattr(
                    target, "id", "")
                if name in {"cache_data", "cache_resource", "cache", "lru_cache"}:
                    yield node.name, name, deco


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_cache_has_a_size(path):
    for function, kind, deco in _cache_decorators(path):
        keywords = {k.arg: k.value for k in deco.keywords} if isinstance(deco, ast.Call) else {}
        if kind in {"cache_data", "cache_resource"}:
            assert "max_entries" in keywords, f"{path.name}:{function} has no max_entries"
            assert isinstance(keywords["max_entries"], ast.Constant), function
            assert 0 < keywords["max_entries"].value <= 256, function
        elif kind == "lru_cache" and isinstance(keywords.get("maxsize"), ast.Constant) \
                and keywords["maxsize"].value is not None:
            continue
        else:
            assert (path.name, function) in UNSIZED_OK, \
                f"{path.name}:{function} caches without a size"
