"""The Neural-network page in Chromium: train XOR live until it is solved, with the decision
map and the curves changing in place; Pause stops; a diverging run; a malformed link.

Also prints the live view's speed in the browser (redraws and epochs per second) as
information; nothing is asserted about time.
"""

from __future__ import annotations

import re

from e2e_helpers import no_exception_on_page, screenshot, wait_for_app

MAP = ".st-key-nn_map .dl-plot"
CURVES = ".st-key-nn_curves .dl-plot"

# Watches every animation frame: the map must be on screen, the same node, with its
# heat-map picture drawn (never blank); counts the map's redraws (restyles).
WATCH = """() => {
    const node = document.querySelector('.st-key-nn_map .dl-plot');
    const s = window.__watch = {frames: 0, blank: 0, replaced: 0, redraws: 0, stop: false,
                                t0: performance.now(), t1: null};
    node.on('plotly_restyle', () => { s.redraws += 1; s.t1 = performance.now(); });
    const tick = () => {
        const now = document.querySelector('.st-key-nn_map .dl-plot');
        s.frames += 1;
        if (now !== node) s.replaced += 1;
        if (!now || !now.querySelector('.hm image, .heatmaplayer image')) s.blank += 1;
        if (!s.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


def open_network(page, app_url, query: str = "") -> None:
    page.goto(f"{app_url}/network{query}")
    wait_for_app(page)
    page.wait_for_selector(f"{MAP} .main-svg", timeout=60_000)
    no_exception_on_page(page)


def epoch_of(page) -> int:
    return int(re.search(r"\d+", page.locator(".st-key-nn_status").inner_text()).group())


def curve_points(page) -> int:
    return page.evaluate(f"() => document.querySelector('{CURVES}').data[0].x.length")


def last_accuracy(page) -> float:
    """The last point of the training-accuracy line (percent)."""
    return page.evaluate(f"""() => {{
        const acc = document.querySelector('{CURVES}').data
            .filter(t => t.yaxis === 'y2' && t.legendgroup === 'train')[0];
        return acc.y[acc.y.length - 1]; }}""")


def test_xor_trains_live_with_charts_changing_in_place(page, app_url):
    open_network(page, app_url)
    assert epoch_of(page) == 0
    page.evaluate(WATCH)
    points_before = curve_points(page)
    page.locator(".st-key-nn_play button").click()
    # at least 100 animation frames and several map redraws while it trains
    page.wait_for_function("() => window.__watch.frames >= 100 && window.__watch.redraws >= 6",
                           timeout=90_000)
    assert curve_points(page) > points_before  # the curves grow while playing
    page.wait_for_function(f"""() => {{
        const acc = document.querySelector('{CURVES}').data
            .filter(t => t.yaxis === 'y2' && t.legendgroup === 'train')[0];
        return acc && acc.y[acc.y.length - 1] >= 100; }}""", timeout=120_000)
    watched = page.evaluate("() => { window.__watch.stop = true; return window.__watch; }")
    assert watched["blank"] == 0 and watched["replaced"] == 0, watched
    seconds = ((watched["t1"] or watched["t0"]) - watched["t0"]) / 1000
    if seconds > 0:
        print(f"\nlive view: {watched['redraws'] / seconds:.1f} map redraws/s over "
              f"{watched['frames']} animation frames, 0 blank")
    page.locator(".st-key-nn_pause button").click()
    wait_for_app(page)
    page.wait_for_timeout(800)
    epoch = epoch_of(page)
    page.wait_for_timeout(2000)
    assert epoch_of(page) == epoch  # really paused
    assert last_accuracy(page) == 100
    # the picture ends where the counter stopped: the curves' last epoch is the counter's
    last_epoch = page.evaluate(f"""() => {{ const x = document.querySelector('{CURVES}')
        .data[0].x; return x[x.length - 1]; }}""")
    assert last_epoch == epoch
    assert page.locator(".st-key-nn_play button").is_visible()
    screenshot(page, "network_xor_solved")
    no_exception_on_page(page)
    assert not page.errors


def test_too_large_learning_rate_stops_with_a_banner(page, app_url):
    open_network(page, app_url)
    page.locator(".st-key-nn_preset button").nth(4).click()  # "too large learning rate"
    wait_for_app(page)
    page.locator(".st-key-nn_play button").click()
    page.locator('[data-testid="stAlertContentError"]').first.wait_for(timeout=60_000)
    wait_for_app(page)
    screenshot(page, "network_diverged")
    no_exception_on_page(page)
    assert not page.errors


def test_malformed_link_is_reported_not_raised(page, app_url):
    open_network(page, app_url, "?hl=99&ds=spiral&lr=oops")
    text = page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
    assert re.search(r"\bhl\b", text) and re.search(r"\blr\b", text)
    no_exception_on_page(page)


def loss_tick_labels(page) -> list[str]:
    """The labels of the loss axis (the curves' first y axis) as drawn."""
    return page.evaluate(f"""() => Array.from(document.querySelectorAll(
        '{CURVES} .yaxislayer-above .ytick text')).map(t => t.textContent)""")


def test_loss_axis_is_labelled_after_one_step(page, app_url):
    """XOR after one Step: the loss moved by a fraction of a percent; the log axis still
    shows labelled ticks (Plotly's own 1-2-5 ticks showed none in such a narrow range)."""
    open_network(page, app_url)
    page.locator(".st-key-nn_step_btn button").first.click()
    page.wait_for_function(f"""() => document.querySelector('{CURVES}').data[0].x.length
                                     >= 2""", timeout=30_000)
    wait_for_app(page)
    page.wait_for_timeout(500)
    labels = loss_tick_labels(page)
    assert len(labels) >= 2, labels
    assert epoch_of(page) == 1
    no_exception_on_page(page)


def test_a_scenario_link_shows_its_what_to_watch_box(page, app_url):
    page.goto(f"{app_url}/network?sc=spiral")
    wait_for_app(page)
    page.wait_for_selector(f"{MAP} .main-svg", timeout=60_000)
    assert page.locator(".st-key-nn_watch").is_visible()
    assert "sc=spiral" in page.url
    no_exception_on_page(page)


def test_overfitting_scenario_from_its_link_adds_a_cure_in_one_click(page, app_url):
    page.goto(f"{app_url}/network?sc=overfitting")
    wait_for_app(page, timeout=60_000)
    chart = ".st-key-nn_of_curves .js-plotly-plot"
    page.wait_for_selector(f"{chart} .main-svg", timeout=60_000)
    assert page.locator(".st-key-nn_watch").is_visible()
    traces = "() => document.querySelector('.st-key-nn_of_curves .js-plotly-plot').data.length"
    assert page.evaluate(traces) == 3
    page.locator(".st-key-nn_of_l2 button").first.click()
    page.wait_for_function(f"() => ({traces})() === 5", timeout=30_000)
    wait_for_app(page)
    assert page.locator(".st-key-nn_of_result_l2").is_visible()
    assert page.locator(".st-key-nn_of_hist .js-plotly-plot").count() == 1
    screenshot(page, "network_overfitting")
    no_exception_on_page(page)
    assert not page.errors


def test_unknown_link_names_are_reported_and_removed(page, app_url):
    open_network(page, app_url, "?dataset=nope&hl=999&sc=nope")
    text = page.locator('[data-testid="stAlertContentWarning"]').first.inner_text()
    for name in ("dataset", "hl", "sc"):
        assert re.search(rf"\b{name}\b", text), text
    assert "dataset=" not in page.url and "sc=" not in page.url and "hl=4" in page.url
    no_exception_on_page(page)
