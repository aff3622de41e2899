"""The Learning-rate lab in a real browser: click a cell and open its race, click a start on
the basin maps, step through SGD's mini-batches, Korean, both screen sizes."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

from e2e_helpers import no_exception_on_page, screenshot, wait_for_app

from app_pages import race_state as rs


def open_lab(page, app_url: str, query: str = "", chart: str = "lab_phase_chart") -> None:
    page.goto(f"{app_url}/lab{query}")
    wait_for_app(page, 90_000)
    page.wait_for_selector(f".st-key-{chart} .js-plotly-plot", timeout=60_000)
    page.wait_for_timeout(800)


def click_plot(page, chart: str, fx: float, fy: float, index: int = 0) -> None:
    """Click at a fraction (fx, fy) of a Plotly plot area (hover first: Plotly picks the
    point under the cursor)."""
    area = page.locator(f".st-key-{chart} .nsewdrag").nth(index).bounding_box()
    x, y = area["x"] + fx * area["width"], area["y"] + fy * area["height"]
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    wait_for_app(page, 60_000)


def link_of(page, key: str) -> str:
    anchor = page.locator(f".st-key-{key} a").first
    anchor.wait_for(timeout=30_000)
    return anchor.get_attribute("href") or ""


def test_click_a_cell_then_race_it(page, app_url):
    open_lab(page, app_url)
    no_exception_on_page(page)
    plot = page.locator(".st-key-lab_phase_chart .nsewdrag").first.bounding_box()
    assert plot["y"] + plot["height"] <= 720 and plot["width"] > 300  # on screen at 720p
    screenshot(page, "lab_phase_1280")
    click_plot(page, "lab_phase_chart", 0.5, 0.5)
    href = link_of(page, "lab_cell_race")
    assert href.startswith("/race?")
    assert "ci=" in page.url and "cj=" in page.url  # the selection is part of the link
    screenshot(page, "lab_phase_selected")
    query = dict(parse_qsl(urlparse(href).query))
    exp, notes = rs.from_query(query)
    assert notes == [] and exp.optimizer_keys == ("momentum",)
    # the race, opened from the link in a new tab (a new session), shows those settings
    race = page.context.new_page()
    race.goto(app_url + href)
    wait_for_app(race, 90_000)
    race.wait_for_timeout(1500)
    no_exception_on_page(race)
    shown = dict(parse_qsl(urlparse(race.url).query))
    for name in ("s", "o", "momentum.lr", "momentum.momentum", "x", "y", "n"):
        assert shown[name] == query[name], name
    assert not page.errors


def test_basins_click_a_start(page, app_url):
    open_lab(page, app_url, "?view=basins&bn=30", chart="lab_basin_chart")
    no_exception_on_page(page)
    screenshot(page, "lab_basins")
    click_plot(page, "lab_basin_chart", 0.8, 0.3)
    href = link_of(page, "lab_start_race")
    exp, notes = rs.from_query(dict(parse_qsl(urlparse(href).query)))
    assert notes == [] and exp.optimizer_keys == ("gd", "momentum")
    assert 0.5 < exp.start[0] < 2.0 and 0.0 < exp.start[1] < 2.0  # upper right of the map
    assert "bsel=1" in page.url


def test_sgd_step_through_mini_batches(page, app_url):
    open_lab(page, app_url, "?view=sgd", chart="lab_sgd_map")
    no_exception_on_page(page)
    screenshot(page, "lab_sgd")
    thumb = page.locator('.st-key-lab_k input[type="range"]').first
    thumb.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    wait_for_app(page, 60_000)
    page.wait_for_function("() => location.search.includes('k=3')", timeout=30_000)
    no_exception_on_page(page)
    assert page.locator(".st-key-lab_sgd_claims").count() == 1


def test_lab_in_korean_at_1920(browser, app_url):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_lab(page, app_url, "?lang=ko")
    assert page.get_by_text("학습률 실험실").count() >= 1
    plot = page.locator(".st-key-lab_phase_chart .nsewdrag").first.bounding_box()
    assert plot["width"] > 550  # the map uses the wider screen
    no_exception_on_page(page)
    screenshot(page, "lab_phase_ko_1920")
    assert not errors
    context.close()


def test_schedules_slider_redraws_and_links_carry_the_schedule(page, app_url):
    open_lab(page, app_url, "?view=schedules", chart="lab_sched_chart")
    no_exception_on_page(page)
    # Streamlit turns the dots of a key into dashes in its CSS class
    page.locator(".st-key-lab_sp-step-gamma input[type='range']").first.focus()
    for _ in range(2):
        page.keyboard.press("ArrowLeft")
    wait_for_app(page, 60_000)
    page.wait_for_function("() => location.search.includes('sp.step.gamma=')", timeout=30_000)
    hrefs = [page.locator(f".st-key-lab_sched_race_{kind} a").first.get_attribute("href")
             for kind in ("step", "cosine")]
    gamma = dict(parse_qsl(urlparse(page.url).query))["sp.step.gamma"]
    step = dict(parse_qsl(urlparse(hrefs[0]).query))
    assert step["sch"] == "step" and float(step["sch.gamma"]) == float(gamma)
    assert "sch=cosine" in hrefs[1]
    screenshot(page, "lab_schedules")
    assert not page.errors
