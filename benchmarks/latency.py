"""The race page in a real browser, against an empty page with one Plotly chart.

In Debian's Chromium (/usr/bin/chromium), both pages served by ``streamlit run`` on
loopback and sampled in turn (A, B, A, B, …) so that load from other processes reaches
both alike:

* **Key press → page still.** Focus the page's learning-rate slider (the race: the GD
  slider under the map, a canvas control; the reference: an ``st.slider``), press → / ←
  alternately, and time from the key press to the last DOM mutation before 600 ms
  without any (the page is still again). Target: p50 race ≤ 2× the reference.
* **Key press → new path drawn** (the race only): to the first frame whose map shows the
  path of the new learning rate (the canvas draws it from the sweep, before the server
  answers).
* **Learning-rate scrub**: a drag over GD's slider, one position per animation frame:
  frames per second at which the path changes, and websocket messages sent meanwhile
  (target ≥ 30 fps, 0 messages).
* **Playback**: messages sent during 3 s of Play (target 0).
* **Bytes**: of a first load of the race page (HTTP, as transferred, and websocket), of
  plotly.js alone, of one slider change (websocket), and whether a second page of the same
  session fetches plotly.js again.

    python -m benchmarks.latency [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from benchmarks.serve import free_port, start_streamlit, stop

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
RACE_SLIDER = '.dl-lr[data-key="gd"] .dl-lr-input'
REF_SLIDER = '[data-testid="stSlider"] input[type="range"]'
QUIET_MS = 600

# Resolves with the ms from t0 to the last DOM mutation once the page has had no mutation
# for QUIET_MS (or -1 after 20 s).
ARM_STILL_WATCH = """
([t0, quiet]) => { window.__still = new Promise((resolve) => {
  let last = performance.now();
  const observer = new MutationObserver(() => { last = performance.now(); });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true,
                                   characterData: true});
  const check = () => {
    const now = performance.now();
    if (now - last >= quiet && now - t0 >= quiet) { observer.disconnect(); resolve(last - t0); }
    else if (now - t0 > 20000) { observer.disconnect(); resolve(-1); }
    else setTimeout(check, 25);
  };
  setTimeout(check, 25);
}); }
"""

# Resolves with the ms from t0 to the frame whose race map shows a new GD path.
ARM_PATH_WATCH = """
(t0) => { const gd = document.querySelector('.dl-race-map');
  const path = () => { const t = gd.data.filter(t => t.mode === 'lines')[0];
                       return t.x.length + ':' + t.x[t.x.length - 1]; };
  const before = path();
  window.__path = new Promise((resolve) => {
    const tick = () => {
      if (path() !== before) requestAnimationFrame(() => resolve(performance.now() - t0));
      else if (performance.now() - t0 > 20000) resolve(-1);
      else requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }); }
"""

# Drags GD's learning rate across its slider, one value per animation frame (input events,
# as a pointer drag sends them), and counts the frames whose drawn path changed.
SCRUB = """
async () => {
  const input = document.querySelector('.dl-lr[data-key="gd"] .dl-lr-input');
  const gd = document.querySelector('.dl-race-map');
  const path = () => { const t = gd.data.filter(t => t.mode === 'lines')[0];
                       return t.x.length + ':' + t.x[t.x.length - 1]; };
  const n = Number(input.max);
  let changed = 0; let last = path();
  const t0 = performance.now();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i <= n; i++) {
      input.value = String(round % 2 ? n - i : i);
      input.dispatchEvent(new Event('input', {bubbles: true}));
      await new Promise((r) => requestAnimationFrame(r));
      const now = path();
      if (now !== last) { changed += 1; last = now; }
    }
  }
  return {changed, seconds: (performance.now() - t0) / 1000, positions: 3 * (n + 1)};
}
"""


def wait_idle(page, selector: str) -> None:
    page.wait_for_selector(selector, timeout=90_000)
    page.wait_for_function(
        """() => { const s = document.querySelector('[data-testid="stStatusWidget"]');
                   return !s || !/Running|Stop/i.test(s.innerText); }""",
        timeout=90_000,
    )
    page.wait_for_timeout(800)


def press(page, selector: str, i: int, path_too: bool = False) -> tuple[float, float]:
    """One key press (→ on even i, ← on odd): (ms until still, ms until the path changed)."""
    page.bring_to_front()
    slider = page.locator(selector).first
    slider.focus()
    t0 = page.evaluate("performance.now()")
    page.evaluate(ARM_STILL_WATCH, [t0, QUIET_MS])
    if path_too:
        page.evaluate(ARM_PATH_WATCH, t0)
    slider.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
    path_ms = page.evaluate("window.__path") if path_too else float("nan")
    return page.evaluate("window.__still"), path_ms


def quantile(xs: list[float], q: int) -> float:
    return statistics.quantiles(xs, n=100)[q - 1] if len(xs) > 1 else xs[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    ref_port, app_port = free_port(), free_port()
    ref = start_streamlit(ROOT / "benchmarks" / "reference_page.py", ref_port, cwd=ROOT)
    app = start_streamlit(ROOT / "app.py", app_port, cwd=ROOT)
    race_url = f"http://127.0.0.1:{app_port}/race"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=CHROMIUM_ARGS)
            # -- first load: bytes over HTTP (as transferred) and the websocket
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            page = context.new_page()
            http, ws_in, plotly_bytes = [], [], []

            def on_finished(request):
                sizes = request.sizes()
                size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
                http.append(size)
                if "/vendor/plotly" in request.url:
                    plotly_bytes.append(size)

            page.on("requestfinished", on_finished)
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda payload: ws_in.append(len(payload))))
            page.goto(race_url)
            wait_idle(page, ".dl-race-map .main-svg")
            first_http, first_ws = sum(http), sum(ws_in)

            # -- one slider change: websocket bytes in
            ws_in.clear()
            press(page, RACE_SLIDER, 0)
            change_ws = sum(ws_in)

            # -- playback and the scrub: messages sent to the server
            sent = []
            page.on("websocket", lambda ws: ws.on("framesent", lambda p: sent.append(p)))
            page.reload()
            wait_idle(page, ".dl-race-map .main-svg")
            sent.clear()
            page.locator(".dl-play").click()
            page.wait_for_timeout(3000)
            play_sent = len(sent)
            sent.clear()
            scrub = page.evaluate(SCRUB)
            scrub_sent = len(sent)

            # -- a second page of the same session: plotly.js again?
            plotly_before = len(plotly_bytes)
            page.locator('[data-testid="stSidebarNavLink"]').nth(2).click()
            wait_idle(page, ".st-key-nn_map .main-svg")
            second_page_fetches = len(plotly_bytes) - plotly_before
            context.close()

            # -- latency, both pages sampled in turn
            ref_page = browser.new_page(viewport={"width": 1280, "height": 720})
            ref_page.goto(f"http://127.0.0.1:{ref_port}/")
            wait_idle(ref_page, ".js-plotly-plot")
            race_page = browser.new_page(viewport={"width": 1280, "height": 720})
            race_page.goto(race_url)
            wait_idle(race_page, ".dl-race-map .main-svg")
            ref_ms, race_ms, path_ms = [], [], []
            for i in range(args.repeats + 2):
                r, _ = press(ref_page, REF_SLIDER, i)
                a, b = press(race_page, RACE_SLIDER, i, path_too=True)
                if i >= 2:  # the first two warm the caches
                    ref_ms.append(r)
                    race_ms.append(a)
                    path_ms.append(b)
            browser.close()
    finally:
        stop(ref)
        stop(app)

    fps = scrub["changed"] / scrub["seconds"]
    print(f"{'measure':<52}{'p50':>9}{'p90':>9}{'n':>5}")
    for name, xs in (("empty page + one chart: key → still (ms)", ref_ms),
                     ("race page: key → still (ms)", race_ms),
                     ("race page: key → new path drawn (ms)", path_ms)):
        xs = [x for x in xs if x >= 0]
        print(f"{name:<52}{quantile(xs, 50):>9.0f}{quantile(xs, 90):>9.0f}{len(xs):>5}")
    ratio = quantile(race_ms, 50) / quantile(ref_ms, 50)
    print(f"p50 ratio race / reference (key → still): {ratio:.2f}  (target <= 2)")
    print(f"learning-rate scrub: {fps:.0f} path changes per second over "
          f"{scrub['positions']} positions, {scrub_sent} messages to the server "
          f"(targets >= 30 fps, 0)")
    print(f"messages to the server during 3 s of playback: {play_sent}  (target 0)")
    print(f"first load of /race: {first_http / 1e6:.2f} MB over HTTP (of which plotly.js "
          f"{sum(plotly_bytes[:1]) / 1e6:.2f} MB), {first_ws / 1e3:.0f} kB over the websocket")
    print(f"one learning-rate change: {change_ws / 1e3:.1f} kB over the websocket")
    print(f"plotly.js fetched again by a second page of the session: "
          f"{'yes' if second_page_fetches else 'no'}")
    print(f"(measured {time.strftime('%Y-%m-%d %H:%M')}; machine load affects both pages)")


if __name__ == "__main__":
    main()
