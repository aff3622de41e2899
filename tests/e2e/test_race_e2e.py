"""The optimizer race in a real browser: the canvas keeps the map alive, plays it and
scrubs learning rates without the server; a click moves the start; downloads work.

Elements are found by key (``.st-key-<key>``) or by the canvas' own classes, never by
English copy.
"""

from __future__ import annotations

import re

from e2e_helpers import no_exception_on_page, screenshot, wait_for_app

MAP = ".st-key-race_map .dl-race-map"


def open_race(page, app_url: str, query: str = "") -> None:
    page.goto(f"{app_url}/race{query}")
    wait_for_app(page, 90_000)
    page.wait_for_selector(f"{MAP} .main-svg", timeout=60_000)
    page.wait_for_timeout(500)


def watch_messages(page) -> list:
    """Every websocket frame the page sends to the server from now on."""
    sent: list = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def run_path(page, key: str) -> list[list[float]]:
    """The (x, y) points of one optimizer's path as the map shows them now."""
    return page.evaluate(
        """(key) => {
            const row = document.querySelector(`.dl-lr[data-key="${key}"]`);
            const b = Number(row.dataset.run);
            const gd = document.querySelector('.st-key-race_map .dl-race-map');
            const paths = gd.data.filter(t => t.mode === 'lines');
            return Array.from(paths[b].x).map((x, i) => [x, paths[b].y[i]]);
        }""", key)


def step_label(page) -> int:
    return int(re.search(r"\d+", page.locator(".st-key-race_map .dl-step-label")
                         .inner_text()).group())


def test_race_loads_with_the_map_and_play_above_the_fold(page, app_url):
    open_race(page, app_url)
    no_exception_on_page(page)
    box = page.locator(MAP).bounding_box()
    assert box is not None and box["width"] > 350 and box["height"] > 300 and box["y"] < 200
    play = page.locator(".st-key-race_map .dl-play").bounding_box()
    assert play is not None and play["y"] + play["height"] <= 720
    # every optimizer has a learning-rate slider under the map, on screen too
    rows = page.locator(".st-key-race_map .dl-lr-input")
    assert rows.count() == 4
    last = rows.nth(3).bounding_box()
    assert last["y"] + last["height"] <= 720
    screenshot(page, "race_default")
    assert not page.errors


def test_play_runs_in_the_browser_without_a_message(page, app_url):
    sent = watch_messages(page)
    open_race(page, app_url, "?sc=zigzag")
    assert step_label(page) == page.evaluate(
        "() => Number(document.querySelector('.st-key-race_map .dl-step').max)")
    sent.clear()
    page.locator(".st-key-race_map .dl-play").click()
    page.wait_for_timeout(500)
    first = step_label(page)
    page.wait_for_timeout(900)
    second = step_label(page)
    assert 0 <= first < second, (first, second)
    # the path grows with the step: fewer points drawn early in the race
    assert len(sent) == 0  # nothing asked of the server while playing
    screenshot(page, "race_playing")
    assert not page.errors


def test_released_learning_rate_keeps_the_map_and_changes_its_data(page, app_url):
    open_race(page, app_url, "?s=elongated_bowl&o=gd")
    page.evaluate(f"() => {{ window.__map = document.querySelector('{MAP}'); }}")
    before = run_path(page, "gd")
    slider = page.locator('.dl-lr[data-key="gd"] .dl-lr-input')
    slider.focus()
    slider.press("ArrowRight")  # a key press is a release: the value is committed
    page.wait_for_function("() => /gd\\.lr=/.test(location.search)", timeout=30_000)
    wait_for_app(page, 60_000)
    page.wait_for_timeout(500)
    after = run_path(page, "gd")
    assert after != before
    assert page.evaluate(f"() => window.__map === document.querySelector('{MAP}')")
    # the settings show the committed value too (same fragment, same run)
    value = float(re.search(r"gd\.lr=([0-9.e-]+)", page.url).group(1))
    label = page.locator('.dl-lr[data-key="gd"] .dl-lr-value').inner_text()
    assert float(label.split("=")[-1]) == value
    no_exception_on_page(page)
    assert not page.errors


def test_dragging_a_learning_rate_morphs_the_path_and_sends_nothing_until_release(
        page, app_url):
    sent = watch_messages(page)
    open_race(page, app_url, "?sc=lr_too_large")
    before = run_path(page, "gd")
    slider = page.locator('.dl-lr[data-key="gd"] .dl-lr-input')
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    sent.clear()
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    notes = set()
    for i in range(1, 13):
        page.mouse.move(box["x"] + 4 + i * (box["width"] - 8) / 12, y)
        page.wait_for_timeout(40)
        notes.add(page.locator('.dl-lr[data-key="gd"] .dl-lr-note').inner_text())
    during = run_path(page, "gd")
    assert len(sent) == 0  # the whole drag happened in the browser
    assert during != before
    # from "ends at f = …" at small rates to "diverges at step …" at large ones
    assert page.locator('.dl-lr[data-key="gd"] .dl-lr-note.dl-bad').count() == 1
    assert len(notes) > 3
    page.mouse.up()
    page.wait_for_function("() => /gd\\.lr=1(&|$)/.test(location.search)", timeout=30_000)
    assert len(sent) >= 1  # released: committed once
    wait_for_app(page, 60_000)
    screenshot(page, "race_lr_scrubbed")
    assert not page.errors


def test_click_on_the_map_moves_the_start(page, app_url):
    open_race(page, app_url)  # Rosenbrock, start (-1.2, 1)
    drag = page.locator(f"{MAP} .nsewdrag").first.bounding_box()
    page.mouse.click(drag["x"] + 0.8 * drag["width"], drag["y"] + 0.75 * drag["height"])
    page.wait_for_function("() => /[?&]x=(?!-1\\.2(&|$))/.test(location.search)",
                           timeout=30_000)
    wait_for_app(page, 60_000)
    x = float(re.search(r"[?&]x=([-0-9.e]+)", page.url).group(1))
    y = float(re.search(r"[?&]y=([-0-9.e]+)", page.url).group(1))
    assert x > -1.2 and y < 1.0  # right of and below the old start
    # the start's input shows it too (the URL is written first in a run, widgets after)
    page.wait_for_function("(x) => document.querySelector('.st-key-x0 input').value === x",
                           arg=f"{x:.3f}", timeout=30_000)
    no_exception_on_page(page)
    screenshot(page, "race_after_click")


def test_divergence_is_marked_and_said(page, app_url):
    open_race(page, app_url, "?sc=lr_too_large")
    assert page.locator('[data-testid="stAlertContentWarning"]').count() >= 1
    crosses = page.evaluate(f"""() => {{
        const gd = document.querySelector('{MAP}');
        return gd.data[gd.data.length - 1].x.length; }}""")
    assert crosses == 1  # GD's ✕
    assert page.locator('.dl-lr[data-key="gd"] .dl-lr-note.dl-bad').count() == 1
    no_exception_on_page(page)


def test_fullscreen_keeps_playback(page, app_url):
    open_race(page, app_url)
    page.locator(".st-key-race_map .dl-full").click()
    page.wait_for_function("() => document.fullscreenElement !== null", timeout=10_000)
    page.locator(".st-key-race_map .dl-play").click()
    page.wait_for_timeout(400)
    first = step_label(page)
    page.wait_for_timeout(700)
    assert step_label(page) > first
    screenshot(page, "race_fullscreen")
    page.keyboard.press("Escape")


def test_present_mode_from_the_link(page, app_url):
    open_race(page, app_url, "?present=1")
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.locator(".st-key-race_map .dl-race.dl-present").count() == 1
    assert page.locator(".st-key-dl_csv").count() == 0
    screenshot(page, "race_present")
    assert not page.errors


def test_download_csv(page, app_url):
    open_race(page, app_url, "?sc=local_minimum")
    with page.expect_download(timeout=30_000) as info:
        page.locator(".st-key-dl_csv button").click()
    text = open(info.value.path(), encoding="utf-8").read()
    assert text.startswith("# ") and "\n# query: " in text  # the settings come first
    lines = [line for line in text.splitlines() if not line.startswith("# ")]
    assert lines[0] == "step,optimizer,x,y,loss,grad_norm,diverged"
    assert len(lines) == 1 + 2 * (300 + 1)  # two optimizers, every iterate
    assert lines[1].startswith("0,GD,1.6,1.4,")


def test_malformed_url_shows_a_note(page, app_url):
    open_race(page, app_url, "?s=nowhere&o=adam,zzz&adam.lr=-3&n=abc")
    note = page.locator('[data-testid="stAlertContentWarning"]').first
    note.wait_for(timeout=30_000)
    text = note.text_content()
    for name in ("s", "o", "adam.lr", "n"):
        assert re.search(rf"\b{re.escape(name)}\b", text)
    no_exception_on_page(page)


def test_download_standalone_html(page, app_url):
    open_race(page, app_url, "?sc=saddle")
    with page.expect_download(timeout=60_000) as info:
        page.locator(".st-key-dl_html button").click()
    text = open(info.value.path(), encoding="utf-8").read()
    assert text.lstrip().lower().startswith("<!doctype html")
    assert "Plotly.addFrames" in text  # the animation is included
    assert not re.search(r"<script[^>]+src=", text)  # plotly.js inline: works offline


def test_second_page_of_a_session_does_not_fetch_plotly_again(page, app_url):
    fetched = []
    page.on("request", lambda r: fetched.append(r.url) if "/vendor/plotly" in r.url else None)
    open_race(page, app_url)
    assert len(fetched) == 1
    page.locator('[data-testid="stSidebarNavLink"]').nth(2).click()  # the network page
    page.wait_for_selector(".st-key-nn_map .main-svg", timeout=60_000)
    assert len(fetched) == 1
