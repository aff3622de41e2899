"""Two app processes behind nginx, started as README "Serving a class" says
(deploy/classroom.py): tabs spread over both processes, every request of a tab (page,
websocket, file upload) reaches its own process, and a real Chromium works through the
proxy. Skipped, with a note, when nginx is not installed (apt-get install nginx)."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from e2e_helpers import no_exception_on_page, wait_for_app

from benchmarks.protocol import Session
from benchmarks.serve import free_port
from deploy.classroom import COOKIE, nginx_binary, start_apps, start_nginx, stop_all

pytestmark = pytest.mark.skipif(
    nginx_binary() is None,
    reason="nginx is not installed (apt-get install nginx): the reverse-proxy test is skipped")

LOG_LINE = re.compile(r'"(?P<request>[^"]*)" (?P<status>\d+) upstream=(?P<upstream>\S+) '
                      r'route=(?P<route>\S+)')


@pytest.fixture(scope="module")
def proxied():
    ports = [free_port(), free_port()]
    apps = start_apps(ports)
    # not under pytest's private tmp: nginx's workers (nobody, when run as root) must
    # reach their temporary files
    prefix = Path(tempfile.mkdtemp(prefix="descent-lab-nginx-test-"))
    listen = free_port()
    try:
        nginx = start_nginx([f"127.0.0.1:{p}" for p in ports], str(listen), prefix)
    except Exception:
        stop_all(apps)
        shutil.rmtree(prefix, ignore_errors=True)
        raise
    yield f"http://127.0.0.1:{listen}", prefix, {f"127.0.0.1:{p}" for p in ports}
    stop_all([nginx, *apps])
    shutil.rmtree(prefix, ignore_errors=True)


def routes(prefix: Path) -> dict[str, set[str]]:
    """route cookie -> the app processes its requests reached (from nginx's access log)."""
    seen: dict[str, set[str]] = defaultdict(set)
    for line in (prefix / "access.log").read_text().splitlines():
        match = LOG_LINE.search(line)
        if match and match["upstream"] != "-":
            seen[match["route"]].add(match["upstream"])
    return seen


def test_tabs_spread_over_both_processes_and_each_stays_on_its_own(proxied):
    url, prefix, backends = proxied

    async def tab(page: str) -> str:
        s = Session(url, page)
        await s.open(timeout=120)
        if page == "race":  # a change answered over the websocket, through the proxy
            await s.rerun([s.event("race_map", "lr", {"key": "gd", "value": 0.002})],
                          fragment_id=s.fragment_of["x0"], timeout=120)
            assert "gd.lr=0.002" in s.query
        await s.close()
        assert not s.stats.exceptions
        return next(c.value for c in s.cookies if c.name == COOKIE)

    async def class_of(n: int) -> list[str]:
        return await asyncio.gather(*(tab("race" if i < 2 else "") for i in range(n)))

    # in a thread of its own: the session's Playwright keeps an event loop in this one
    with ThreadPoolExecutor(1) as pool:  # all from 127.0.0.1: one address, like a NAT
        cookies = pool.submit(asyncio.run, class_of(16)).result()
    seen = routes(prefix)
    assert len(set(cookies)) == 16
    for cookie in cookies:
        assert len(seen[cookie]) == 1, (cookie, seen[cookie])  # page, websocket: one process
    # 16 tabs from one address: all on one process would be a 1-in-32,768 chance
    assert set().union(*(seen[c] for c in cookies)) == backends


def test_chromium_through_the_proxy_races_and_uploads(proxied, page, tmp_path):
    url, prefix, _ = proxied
    page.goto(f"{url}/race")
    page.wait_for_selector(".dl-race-map .main-svg", timeout=90_000)
    wait_for_app(page, timeout=60_000)
    slider = page.locator('.dl-lr[data-key="gd"] .dl-lr-input')
    slider.focus()
    slider.press("ArrowRight")  # released: the canvas commits the new rate to the server
    page.wait_for_function("() => !/gd\\.lr=0\\.001(&|$)/.test(location.search)",
                           timeout=60_000)
    no_exception_on_page(page)

    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2,label\n" + "".join(
        f"{x / 10},{y / 10},{int((x > 4) != (y > 4))}\n" for x in range(10) for y in range(10)))
    page.goto(f"{url}/network?ds=upload")
    wait_for_app(page, timeout=60_000)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(csv))
    # the map appears only once the process that holds this tab's session got the file
    page.wait_for_selector(".st-key-nn_map .main-svg", timeout=60_000)
    no_exception_on_page(page)
    cookie = next(c["value"] for c in page.context.cookies() if c["name"] == COOKIE)
    assert len(routes(prefix)[cookie]) == 1
