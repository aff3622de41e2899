"""The Neural-network page in Chromium: train XOR live until it is solved; a diverging run.

Also prints the live view's speed in the browser (epochs per second, redraws per second)
as information; nothing is asserted about time.
"""

from __future__ import annotations

import re

from e2e_helpers import no_exception_on_page, screenshot, wait_for_app

STATUS = ".st-key-nn_status"

# Counts how often the status line (epoch counter) is redrawn, and the epochs it shows.
OBSERVE = """() => {
    const target = document.querySelector('.st-key-nn_status');
    window.__nn = {redraws: 0, first: null, last: null, t0: performance.now(), t1: null};
    const read = () => {
        const m = /Epoch (\\d+)/.exec(target.innerText);
        return m ? Number(m[1]) : null;
    };
    window.__nn.first = read();
    new MutationObserver(() => {
        const e = read();
        if (e !== null && e !== window.__nn.last) {
            window.__nn.redraws += 1; window.__nn.last = e; window.__nn.t1 = performance.now();
        }
    }).observe(target, {subtree: true, childList: true, characterData: true});
}"""


# While playing, the map is a picture updated in place: watch every animation frame for a
# map that is missing or a picture that failed to load (a broken-image icon).
WATCH_MAP = """() => {
    window.__map = {frames: 0, missing: 0, broken: 0, replaced: 0, node: null, stop: false};
    const tick = () => {
        const s = window.__map;
        const img = document.querySelector('.st-key-nn_live_map img');
        s.frames += 1;
        if (!img) { s.missing += 1; }
        else {
            if (img.complete && img.naturalWidth === 0) s.broken += 1;
            if (s.node && s.node !== img) s.replaced += 1;
            s.node = img;
        }
        if (!s.stop) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


def open_network(page, app_url, query: str = "") -> None:
    page.goto(f"{app_url}/network{query}")
    wait_for_app(page)
    page.wait_for_selector(STATUS, timeout=30_000)
    no_exception_on_page(page)


def test_xor_trains_live_to_full_accuracy(page, app_url):
    open_network(page, app_url)
    assert "Epoch 0" in page.locator(STATUS).inner_text()
    page.evaluate(OBSERVE)
    page.get_by_role("button", name="Play").click()
    # playing: the map is a PNG inside the page, not a Plotly chart remounted on every redraw
    page.wait_for_selector(".st-key-nn_live_map img", timeout=30_000)
    page.wait_for_function("() => document.querySelector('.st-key-nn_live_map img')"
                           ".naturalWidth > 0", timeout=30_000)
    assert page.locator(".st-key-nn_live_map img").get_attribute("src").startswith(
        "data:image/png;base64,")
    page.evaluate(WATCH_MAP)
    # watch over at least three redraws (new pictures) of the live panel
    page.wait_for_function(f"() => window.__nn.redraws >= "
                           f"{page.evaluate('() => window.__nn.redraws') + 3}", timeout=60_000)
    page.wait_for_function(
        """() => /train accuracy 100\\s%/.test(
               document.querySelector('.st-key-nn_status').innerText)""",
        timeout=90_000)
    watched = page.evaluate("() => { window.__map.stop = true; const s = window.__map;"
                            " return {frames: s.frames, missing: s.missing, broken: s.broken,"
                            " replaced: s.replaced}; }")
    print(f"\nlive map: {watched}")
    assert watched["frames"] > 0
    assert watched["missing"] == 0 and watched["broken"] == 0  # on screen in every frame
    stats = page.evaluate("() => window.__nn")
    seconds = (stats["t1"] - stats["t0"]) / 1000
    if stats["redraws"] > 1 and seconds > 0:
        print(f"\nlive view: {(stats['last'] - (stats['first'] or 0)) / seconds:.0f} epochs/s, "
              f"{stats['redraws'] / seconds:.1f} redraws/s in the browser")
    page.get_by_role("button", name="Pause").click()
    wait_for_app(page)
    # Streamlit remounts a Plotly chart whenever its figure changes: wait for the redraw
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot .main-svg').length"
                           " >= 2", timeout=30_000)
    page.wait_for_timeout(1500)
    screenshot(page, "network_xor_solved")
    text = page.locator(STATUS).inner_text().replace("\xa0", " ")
    page.wait_for_timeout(2000)
    assert page.locator(STATUS).inner_text().replace("\xa0", " ") == text  # really paused
    assert page.get_by_role("button", name="Play").is_visible()
    assert re.search(r"Epoch [1-9]\d*", text) and "train accuracy 100 %" in text
    # the decision map and the curves are on screen
    assert page.locator(".js-plotly-plot").count() >= 2
    no_exception_on_page(page)
    assert not page.errors


def test_too_large_learning_rate_stops_with_a_banner(page, app_url):
    open_network(page, app_url)
    page.get_by_text("Too-large learning rate").click()
    wait_for_app(page)
    page.get_by_role("button", name="Play").click()
    page.get_by_text("Training diverged").wait_for(timeout=60_000)
    wait_for_app(page)
    screenshot(page, "network_diverged")
    no_exception_on_page(page)
    assert not page.errors


def test_malformed_link_is_reported_not_raised(page, app_url):
    open_network(page, app_url, "?hl=99&ds=spiral&lr=oops")
    # one notice, a line per parameter saying what happened to it
    note = page.locator('[data-testid="stAlertContainer"]').filter(has_text="hl (99)")
    assert note.is_visible() and "lr (oops)" in note.inner_text()
    no_exception_on_page(page)
