"""Live training on the Neural-network page: what one playing student costs the server and
sees in the browser.

Starts the app, opens /network in Debian's Chromium (XOR, 2-4-1 tanh, Adam: the page's
defaults, at its default speed), presses Play and, over ``--seconds`` of training, counts

* the server's CPU time (user + system of the ``streamlit run`` process, from /proc),
  as a percentage of one core (target ≤ 10 %);
* the decision map's redraws in the browser (its restyles, target ≥ 10 per second) and
  the animation frames in which the map was missing, replaced or drawn without its heat
  map (blank frames, target 0 of ≥ 100);
* epochs trained per second;

then presses Pause and measures the server's CPU while the same page sits paused.

    python -m benchmarks.live [--seconds 15] [--query "ds=spiral&hl=3&w=12"]
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from benchmarks.procfs import tree_cpu_seconds
from benchmarks.serve import free_port, start_streamlit, stop

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
WATCH = """() => {
    const node = document.querySelector('.st-key-nn_map .dl-plot');
    const s = window.__watch = {frames: 0, blank: 0, redraws: 0};
    node.on('plotly_restyle', () => { s.redraws += 1; });
    const tick = () => {
        const now = document.querySelector('.st-key-nn_map .dl-plot');
        s.frames += 1;
        if (now !== node || !now.querySelector('.hm image, .heatmaplayer image')) s.blank += 1;
        requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
}"""


def epoch(page) -> int:
    return int(re.search(r"\d+", page.locator(".st-key-nn_status").inner_text()).group())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--query", default="", help="network page query, e.g. ds=spiral")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    port = free_port()
    app = start_streamlit(ROOT / "app.py", port, cwd=ROOT)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                         args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            query = f"?{args.query}&ep=20000" if args.query else "?ep=20000"
            page.goto(f"http://127.0.0.1:{port}/network{query}")
            page.wait_for_selector(".st-key-nn_map .main-svg", timeout=90_000)
            page.wait_for_timeout(1500)
            page.evaluate(WATCH)
            page.locator(".st-key-nn_play button").click()
            page.wait_for_timeout(2000)  # past the first ticks
            watch0 = page.evaluate("() => ({...window.__watch})")
            e0, c0, t0 = epoch(page), tree_cpu_seconds([app.pid]), time.monotonic()
            page.wait_for_timeout(1000 * args.seconds)
            watch1 = page.evaluate("() => ({...window.__watch})")
            e1, c1, t1 = epoch(page), tree_cpu_seconds([app.pid]), time.monotonic()
            page.locator(".st-key-nn_pause button").click()
            page.wait_for_timeout(3000)
            c2, t2 = tree_cpu_seconds([app.pid]), time.monotonic()
            page.wait_for_timeout(1000 * min(args.seconds, 10))
            c3, t3 = tree_cpu_seconds([app.pid]), time.monotonic()
            browser.close()
    finally:
        stop(app)

    seconds = t1 - t0
    frames = watch1["frames"] - watch0["frames"]
    print(f"over {seconds:.1f} s of live training ({args.query or 'the page defaults'}):")
    print(f"  server CPU, playing: {100 * (c1 - c0) / seconds:.1f} % of one core "
          "(target <= 10 %)")
    print(f"  server CPU, paused:  {100 * (c3 - c2) / (t3 - t2):.1f} % of one core")
    print(f"  map redraws in Chromium: {(watch1['redraws'] - watch0['redraws']) / seconds:.1f}"
          " per second (target >= 10)")
    print(f"  blank frames: {watch1['blank'] - watch0['blank']} of {frames} animation frames "
          "(target 0 of >= 100)")
    print(f"  epochs per second: {(e1 - e0) / seconds:.1f}")


if __name__ == "__main__":
    main()
