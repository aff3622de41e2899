"""The optimizer race in a real browser: load, scenario, Play, click the map, download."""

from __future__ import annotations

import re

from e2e_helpers import no_exception_on_page, screenshot, wait_for_app

MAP = '[data-testid="stPlotlyChart"] .js-plotly-plot'


def open_race(page, app_url: str, query: str = "") -> None:
    page.goto(f"{app_url}/race{query}")
    wait_for_app(page, 90_000)
    page.wait_for_selector(MAP, timeout=60_000)
    page.wait_for_timeout(800)


def current_step_label(page) -> str:
    """The text of the frame slider's current value ("step 123") on the race map."""
    # plotly draws the current value as the first slider label, the tick labels after it
    return page.locator(MAP).first.locator(".slider-container text.slider-label"
                                           ).first.text_content() or ""


def sidebar_number(page, label: str) -> float:
    box = page.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"]').filter(
        has_text=label).locator("input").first
    return float(box.input_value())


def test_race_loads_with_the_map_above_the_fold(page, app_url):
    open_race(page, app_url)
    no_exception_on_page(page)
    box = page.locator(MAP).first.bounding_box()
    assert box is not None and box["width"] > 450 and box["y"] < 200
    # the Play button is on screen without scrolling
    play = page.locator(MAP).first.locator("g.updatemenu-button").first
    play_box = play.bounding_box()
    assert play_box is not None and play_box["y"] + play_box["height"] <= 720
    screenshot(page, "race_default")
    assert not page.errors


def test_scenario_play_and_divergence_note(page, app_url):
    open_race(page, app_url)
    page.locator('[data-testid="stSidebar"] button').filter(
        has_text="Too-large learning rate").first.click()
    wait_for_app(page, 60_000)
    page.wait_for_selector(MAP)
    note = page.get_by_text(re.compile(r"GD diverged at step \d+"))
    note.first.wait_for(timeout=30_000)
    assert page.get_by_text("stable only if lr < 2/20").count() >= 1
    assert "sc=lr_too_large" in page.url
    no_exception_on_page(page)
    screenshot(page, "race_scenario_diverged")

    # Play: the animation runs in the browser, the frame label advances
    before = current_step_label(page)
    page.locator(MAP).first.locator("g.updatemenu-button").first.click()
    page.wait_for_timeout(400)
    first = current_step_label(page)
    page.wait_for_timeout(900)
    second = current_step_label(page)
    numbers = [int(m.group()) for m in (re.search(r"\d+", s) for s in (first, second)) if m]
    assert len(numbers) == 2 and numbers[1] > numbers[0], (before, first, second)
    screenshot(page, "race_playing")
    assert not page.errors


def test_click_on_the_map_moves_the_start(page, app_url):
    open_race(page, app_url)
    x_before, y_before = sidebar_number(page, "start x"), sidebar_number(page, "start y")
    plot = page.locator(MAP).first.locator(".nsewdrag").first
    box = plot.bounding_box()
    page.mouse.click(box["x"] + 0.8 * box["width"], box["y"] + 0.75 * box["height"])
    page.wait_for_timeout(500)
    wait_for_app(page, 60_000)
    page.wait_for_function(
        """([x, y]) => {
            const inputs = [...document.querySelectorAll(
                '[data-testid="stSidebar"] [data-testid="stNumberInput"]')];
            const val = (label) => {
                const box = inputs.find(el => el.innerText.includes(label));
                return box ? parseFloat(box.querySelector('input').value) : NaN;
            };
            return val('start x') !== x || val('start y') !== y;
        }""",
        arg=[x_before, y_before], timeout=30_000)
    wait_for_app(page, 60_000)
    page.wait_for_timeout(1000)
    x_after, y_after = sidebar_number(page, "start x"), sidebar_number(page, "start y")
    assert x_after > x_before  # clicked right of the default start (-1.2, 1) on Rosenbrock
    assert y_after < y_before  # and below it
    assert re.search(r"[?&]x=", page.url)  # the new start is in the link
    no_exception_on_page(page)
    screenshot(page, "race_after_click")


def test_download_csv(page, app_url):
    open_race(page, app_url, "?sc=local_minimum")
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=re.compile("Runs \\(CSV\\)")).click()
    path = info.value.path()
    text = open(path, encoding="utf-8").read()
    assert text.startswith("# ") and "\n# query: " in text  # the settings come first
    lines = [line for line in text.splitlines() if not line.startswith("# ")]
    assert lines[0] == "step,optimizer,x,y,loss,grad_norm,diverged"
    steps = 300
    assert len(lines) == 1 + 2 * (steps + 1)  # two optimizers, every iterate
    assert lines[1].startswith("0,GD,1.6,1.4,")


def test_malformed_url_shows_a_note(page, app_url):
    open_race(page, app_url, "?s=nowhere&o=adam,zzz&adam.lr=-3&n=abc")
    note = page.get_by_text(re.compile("could not be used"))
    note.first.wait_for(timeout=30_000)
    text = note.first.text_content()
    for name in ("s", "o", "adam.lr", "n"):
        assert re.search(rf"\b{re.escape(name)}\b", text)
    no_exception_on_page(page)


def test_download_standalone_html(page, app_url):
    open_race(page, app_url, "?sc=saddle")
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name=re.compile("Animation \\(HTML\\)")).click()
    text = open(info.value.path(), encoding="utf-8").read()
    assert text.lstrip().lower().startswith("<!doctype html")
    assert "Plotly.addFrames" in text  # the animation is included
    assert not re.search(r"<script[^>]+src=", text)  # plotly.js inline: works offline
