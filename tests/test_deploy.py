"""The container image and the reverse-proxy configuration, checked without Docker (the
image itself is built elsewhere; its steps are what this file can hold to account)."""

from __future__ import annotations

import fnmatch
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from streamlit import config as st_config

from deploy.classroom import COOKIE, MAIN, nginx_binary, site_config

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
INSTRUCTIONS = re.findall(r"^([A-Z]+)\s+(.*?)(?<!\\)$",
                          re.sub(r"\\\n\s*", " ", re.sub(r"(?m)^\s*#.*\n", "", DOCKERFILE)),
                          flags=re.M)
IGNORED = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
           if line.strip() and not line.startswith("#")]


def instructions(name: str) -> list[str]:
    return [args for op, args in INSTRUCTIONS if op == name]


def test_image_runs_as_an_ordinary_user():
    users = instructions("USER")
    assert users and users[-1] not in {"root", "0"}
    order = [op for op, _ in INSTRUCTIONS]
    assert order.index("USER") < order.index("CMD")


def test_healthcheck_asks_streamlit_on_the_port_it_serves():
    (health,) = instructions("HEALTHCHECK")
    (cmd,) = instructions("CMD")
    port = re.search(r"--server\.port=(\d+)", cmd).group(1)
    assert f"http://127.0.0.1:{port}/_stcore/health" in health
    assert instructions("EXPOSE") == [port]


def test_command_uses_real_streamlit_options():
    (cmd,) = instructions("CMD")
    for name in re.findall(r"--([a-zA-Z]+\.[a-zA-Z]+)=", cmd):
        assert name in st_config.get_config_options(), name
    assert "--server.address=0.0.0.0" in cmd  # reachable from outside the container


def test_image_copies_what_the_app_needs_and_vendors_plotly_at_build_time():
    copied = set()
    for args in instructions("COPY"):
        *sources, _ = args.split()
        copied.update(sources)
    for path in copied:
        assert (ROOT / path).exists(), path
        assert not any(fnmatch.fnmatch(path, pattern) for pattern in IGNORED), path
    needed = {"app.py", "texts.py", "pyproject.toml", "README.md", "engine", "viz", "app_pages",
              "assets", "static", ".streamlit"}
    assert needed <= copied
    assert any("python -m app_pages.vendor" in run for run in instructions("RUN"))


def test_vendoring_needs_no_streamlit(tmp_path):
    # what the image build runs: with Streamlit unimportable it still places plotly.js
    code = ("import sys; sys.modules['streamlit'] = None\n"
            "from app_pages import vendor\n"
            "print(vendor.VENDOR / vendor.vendor_plotly())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout.strip()
    import plotly
    source = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert Path(out).read_bytes() == source.read_bytes()


def test_proxy_keeps_each_tab_on_one_process_and_passes_websockets():
    site = site_config(["10.0.0.2:8501", "10.0.0.3:8501"], "8080")
    assert "hash $descent_lab_route consistent;" in site
    assert "server 10.0.0.2:8501" in site and "server 10.0.0.3:8501" in site
    assert f'"{COOKIE}=$request_id; Path=/; HttpOnly; SameSite=Lax"' in site
    for header in ("Upgrade $http_upgrade", "Connection $descent_lab_connection",
                   "Host $http_host"):
        assert f"proxy_set_header {header};" in site
    assert "proxy_http_version 1.1;" in site
    with pytest.raises(ValueError, match="at least one backend"):
        site_config([], "8080")


@pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed: syntax not checked")
def test_nginx_accepts_the_configuration():
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp)
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / "tmp" / sub).mkdir(parents=True)
        (prefix / "site.conf").write_text(site_config(["127.0.0.1:8501", "127.0.0.1:8502"],
                                                      "127.0.0.1:18080"))
        (prefix / "nginx.conf").write_text(MAIN.format(prefix=prefix))
        check = subprocess.run([nginx_binary(), "-t", "-p", str(prefix), "-c",
                                str(prefix / "nginx.conf")], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
