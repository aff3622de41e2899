"""Browser latency of the race page against an empty page with one Plotly chart.

In real Chromium (Debian's /usr/bin/chromium), for each page: focus the first
learning-rate slider, press ArrowRight / ArrowLeft alternately, and time from the key press
to the moment the first Plotly chart on the page holds new data and has painted; the two
pages are open in two tabs and sampled in turn, so load from other processes reaches both
alike. Prints the
p50 / p90 of both and their ratio (target for the race page: p50 ratio <= 1.3). Also prints
the size of the race figure sent at defaults and checks that playing the animation sends
nothing to the server.

    python -m benchmarks.latency [--repeats 25]
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from benchmarks.serve import free_port, start_streamlit, stop

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

# Resolves with performance.now() once the first Plotly graph's data object is replaced
# (Streamlit re-renders it with Plotly.react) and one more frame has painted.
ARM_REDRAW_WATCH = """
(t0) => { window.__redrawn = new Promise((resolve) => {
  const before = document.querySelector('.js-plotly-plot')?.data;
  const tick = () => {
    const gd = document.querySelector('.js-plotly-plot');
    if (gd && gd.data && gd.data !== before) {
      requestAnimationFrame(() => resolve(performance.now() - t0));
    } else if (performance.now() - t0 > 20000) {
      resolve(-1);
    } else {
      requestAnimationFrame(tick);
    }
  };
  requestAnimationFrame(tick);
}); }
"""


def wait_idle(page) -> None:
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stStatusWidget"]');
                   return !s || !/Running|Stop/i.test(s.innerText); }""",
        timeout=60_000,
    )
    page.wait_for_timeout(400)


def open_page(browser, url: str, slider_selector: str):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(url)
    wait_idle(page)
    return page, page.locator(slider_selector).first


def sample(page, slider, i: int) -> float:
    """One slider step (right on even i, left on odd): ms from key press to the redrawn chart."""
    page.bring_to_front()
    slider.focus()
    t0 = page.evaluate("performance.now()")
    page.evaluate(ARM_REDRAW_WATCH, t0)
    slider.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
    elapsed = page.evaluate("window.__redrawn")
    wait_idle(page)
    return elapsed


def measure_interleaved(pages, repeats: int) -> list[list[float]]:
    """Samples of every (page, slider), taken in turn (A, B, A, B, ...): the machine's load
    drifts (other servers, tests) then reach both pages alike instead of one run each."""
    samples: list[list[float]] = [[] for _ in pages]
    for i in range(repeats + 2):
        for (page, slider), out in zip(pages, samples, strict=True):
            elapsed = sample(page, slider, i)
            if i >= 2 and elapsed > 0:  # the first two warm the caches
                out.append(elapsed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=25)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    ref_port, app_port = free_port(), free_port()
    ref = start_streamlit(ROOT / "benchmarks" / "reference_page.py", ref_port, cwd=ROOT)
    app = start_streamlit(ROOT / "app.py", app_port, cwd=ROOT)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=CHROMIUM_ARGS)
            slider = '[data-testid="stSlider"] input[type="range"]'
            ref_page = open_page(browser, f"http://127.0.0.1:{ref_port}/", slider)
            race_page = open_page(browser, f"http://127.0.0.1:{app_port}/race", slider)
            ref_ms, race_ms = measure_interleaved([ref_page, race_page], args.repeats)
            ref_page[0].close()
            race_page[0].close()
            page = browser.new_page(viewport={"width": 1280, "height": 720})

            # Figure size at defaults, and playback without server round trips.
            page.goto(f"http://127.0.0.1:{app_port}/race")
            wait_idle(page)
            size = page.evaluate(
                "JSON.stringify({data: document.querySelector('.js-plotly-plot').data, "
                "frames: document.querySelector('.js-plotly-plot')._transitionData?._frames})"
                ".length")
            sent = []
            page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(1)))
            page.reload()
            wait_idle(page)
            sent.clear()
            play = page.locator(".updatemenu-button").first
            play.click()
            page.wait_for_timeout(3000)
            browser.close()
    finally:
        stop(ref)
        stop(app)

    def p(q, xs):
        return statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else xs[0]

    print(f"{'page':<28}{'p50 ms':>10}{'p90 ms':>10}{'n':>6}")
    print(f"{'empty page + one chart':<28}{p(50, ref_ms):>10.0f}{p(90, ref_ms):>10.0f}"
          f"{len(ref_ms):>6}")
    print(f"{'race page at defaults':<28}{p(50, race_ms):>10.0f}{p(90, race_ms):>10.0f}"
          f"{len(race_ms):>6}")
    print(f"p50 ratio race / reference: {p(50, race_ms) / p(50, ref_ms):.2f}  (target <= 1.3)")
    print(f"race figure in the browser (data + frames, JSON): {size / 1e6:.2f} MB "
          f"(target <= 1 MB)")
    print(f"websocket messages sent to the server during 3 s of playback: {len(sent)}")


if __name__ == "__main__":
    main()
