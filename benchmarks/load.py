"""A classroom on one server: N simulated students over Streamlit's own websocket protocol,
and one real Chromium next to them.

Each simulated student is a :class:`benchmarks.protocol.Session` (no browser: the
protobuf messages of the installed ``streamlit`` package over its websocket) and follows
a script at human pace:

1. opens the race (``/race``) and for ``--race`` seconds, every 2–5 s, changes a learning
   rate under the map (the canvas's ``lr`` event), clicks the map (``click``), changes the
   optimizers in the race, or presses a scenario;
2. opens the network page and presses Play: live training at the page's default speed
   (20 epochs/s), the client asking for each tick as the browser's canvas does, for
   ``--live`` seconds; then Pause, and the tab closes.

Students join one by one over ``--ramp`` seconds (a class does not press Enter at the same
instant), so the race of the late ones meets the live training of the early ones, and in
the last part every student trains at once.

Reported per N (students), from a fresh server each time:

* interaction: seconds from a student's change to the last message of its answer (the
  run's ``script_finished``), p50 / p95 / max over every change (page opens apart);
* epochs per second of each live training, over the window in which every student
  trains (the slowest student, and the median); the target is ≥ 10 at 20 epochs/s;
* the server's CPU (% of one core, user + system from /proc, its worker processes
  included) and resident memory (before, peak), and the load generator's own CPU (it
  shares the machine);
* errors: exceptions shown to a student, timeouts, dropped connections;
* the one real Chromium: key press on the race page's learning-rate slider → page still
  (as ``benchmarks.latency``), p50 / p95, sampled through the whole run.

Then, on a fresh server: memory per idle session (tabs that opened the race and the
network page and sit there) and how much comes back after the tabs close (Streamlit keeps
a closed tab's session for ``server.disconnectedSessionTTL`` seconds so a reconnecting
tab finds it: the run uses 10 s instead of the default 120 s to see the end of it).

Bounded: at most ``--max-students`` students, every wait has a timeout, the run stops by
itself (about ramp + race + live + 30 s per N).

With ``--processes P`` (P > 1) the app runs as P processes behind nginx on loopback, as
README "Serving a class" says (deploy/classroom.py), and the students go through it.

    python -m benchmarks.load                       # N = 1, 10, 30, 60
    python -m benchmarks.load --students 30 --no-browser
    python -m benchmarks.load --students 30,60 --processes 2 --idle 0
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.procfs import cpu_seconds, tree_cpu_seconds, tree_rss_mb
from benchmarks.protocol import Session
from benchmarks.serve import free_port, start_streamlit, stop
from deploy.classroom import start_apps, start_nginx, stop_all

ROOT = Path(__file__).resolve().parents[1]
EPOCH = re.compile(r"^Epoch \*\*(\d+)\*\*")
MAX_STUDENTS = 100
ANSWER_TIMEOUT = 60.0     # a change without an answer this long is an error
IDLE_TTL = 10             # server.disconnectedSessionTTL for the idle-memory measure


# ----------------------------------------------------------------------------- /proc


def busy_processes(seconds: float = 2.0, threshold: float = 5.0) -> list[str]:
    """Other processes using more than ``threshold`` % of a core (what else is running)."""
    def snapshot() -> dict[int, tuple[float, str]]:
        out = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as fh:
                        cmd = fh.read().replace(b"\0", b" ").decode(errors="replace")[:70]
                    out[int(entry)] = (cpu_seconds(int(entry)), cmd)
                except (OSError, ValueError, IndexError):
                    pass
        return out
    before = snapshot()
    time.sleep(seconds)
    after = snapshot()
    busy = [(100 * (after[p][0] - before[p][0]) / seconds, after[p][1])
            for p in after if p in before]
    return [f"{share:3.0f} % {cmd.strip()}" for share, cmd in sorted(busy, reverse=True)
            if share > threshold]


class Sampler(threading.Thread):
    """Peak resident memory of the server processes and their workers, every 0.25 s."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.peak = tree_rss_mb(pids)
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.25):
            self.peak = max(self.peak, tree_rss_mb(self.pids))

    def finish(self) -> float:
        self._done.set()
        self.join()
        return self.peak


# ----------------------------------------------------------------------------- students


@dataclass
class Outcome:
    """What one student measured."""

    changes: list[tuple[str, float]] = field(default_factory=list)  # (kind, seconds)
    opens: list[float] = field(default_factory=list)
    epochs: list[tuple[float, int]] = field(default_factory=list)   # (time, epoch)
    tick_times: list[float] = field(default_factory=list)   # auto rerun request -> answer
    updates: list[float] = field(default_factory=list)      # when a live update finished
    live: tuple[float, float] | None = None                  # Play answered .. Pause sent
    errors: list[str] = field(default_factory=list)


def latest_epoch(session: Session) -> int | None:
    for body in reversed(session.markdown):
        match = EPOCH.match(body)
        if match:
            return int(match.group(1))
    return None


async def race_action(s: Session, rng: random.Random, out: Outcome) -> None:
    """One change a student makes on the race page."""
    fragment = s.fragment_of.get("x0", "")
    kind = rng.choices(["lr", "click", "optimizers", "scenario"], [45, 15, 20, 20])[0]
    if kind == "lr":
        chosen = dict(p.split("=", 1) for p in s.query.split("&") if "=" in p).get("o", "gd")
        key = rng.choice(chosen.replace("%2C", ",").split(","))
        value = float(f"{10 ** rng.uniform(-4, -0.5):.2g}")
        elapsed = await s.rerun([s.event("race_map", "lr", {"key": key, "value": value})],
                                fragment_id=fragment, timeout=ANSWER_TIMEOUT)
    elif kind == "click":
        elapsed = await s.rerun([s.event("race_map", "click", {"x": rng.uniform(-1.5, 1.5),
                                                               "y": rng.uniform(-0.5, 2.0)})],
                                fragment_id=fragment, timeout=ANSWER_TIMEOUT)
    elif kind == "optimizers":
        options = list(s.widgets["opts"].options)
        picked = rng.sample(options, rng.randint(2, 4))
        elapsed = await s.rerun([s.widget("opts", string_array_value=sorted(
            picked, key=options.index))], timeout=ANSWER_TIMEOUT)
    else:
        options = [o.content for o in s.widgets["sc"].options]
        elapsed = await s.rerun([s.widget("sc", string_array_value=[rng.choice(options)])],
                                timeout=ANSWER_TIMEOUT)
    out.changes.append((kind, elapsed))


async def student(index: int, url: str, start: float, join: float, race_s: float,
                  live_s: float, out: Outcome) -> None:
    rng = random.Random(index)
    await asyncio.sleep(max(0.0, start + join - time.perf_counter()))
    s = Session(url, "race")
    try:
        out.opens.append(await s.open(timeout=ANSWER_TIMEOUT))
        race_end = time.perf_counter() + race_s
        while True:
            think = rng.uniform(2.0, 5.0)
            if time.perf_counter() + think > race_end:
                break
            await asyncio.sleep(think)
            await race_action(s, rng, out)
        await asyncio.sleep(max(0.0, race_end - time.perf_counter()))

        out.opens.append(await s.goto("network", "ep=20000", timeout=ANSWER_TIMEOUT))
        await asyncio.sleep(rng.uniform(1.0, 2.0))
        out.changes.append(("play", await s.rerun([s.button("nn_play")],
                                                  fragment_id=s.fragment_of["nn_play"],
                                                  timeout=ANSWER_TIMEOUT)))
        live_start = time.perf_counter()
        live_end = live_start + live_s
        while time.perf_counter() < live_end:
            await asyncio.sleep(0.5)
            epoch = latest_epoch(s)
            if epoch is not None:
                out.epochs.append((time.perf_counter(), epoch))
        out.live = (live_start, time.perf_counter())
        out.changes.append(("pause", await s.rerun([s.button("nn_pause")],
                                                   fragment_id=s.fragment_of["nn_pause"],
                                                   timeout=ANSWER_TIMEOUT)))
    except Exception as exc:  # noqa: BLE001 - every failure is a figure of the report
        out.errors.append(f"student {index}: {exc!r}")
    finally:
        out.tick_times = list(s.auto_rerun_times)
        out.updates = list(s.auto_runs)
        out.errors.extend(f"student {index}: {e}" for e in s.stats.exceptions)
        await s.close()


def rate_in(epochs: list[tuple[float, int]], t0: float, t1: float) -> float | None:
    """Epochs per second of one student between t0 and t1 (from its samples)."""
    inside = [(t, e) for t, e in epochs if t0 <= t <= t1]
    if len(inside) < 2 or inside[-1][0] - inside[0][0] < 0.5 * (t1 - t0):
        return None
    (ta, ea), (tb, eb) = inside[0], inside[-1]
    return (eb - ea) / (tb - ta)


# ----------------------------------------------------------------------------- Chromium


# Resolves with [ms to the server's answer (the address bar shows the new learning rate),
# ms to the last DOM change after it once the page has been still for 600 ms], or -1s.
ANSWER_WATCH = """
([t0, before]) => { window.__answer = new Promise((resolve) => {
  let last = performance.now(), answered = null;
  const observer = new MutationObserver(() => { last = performance.now(); });
  observer.observe(document.body, {subtree: true, childList: true, attributes: true,
                                   characterData: true});
  const check = () => {
    const now = performance.now();
    if (answered === null && location.search !== before) answered = now;
    if (answered !== null && now - Math.max(last, answered) >= 600) {
      observer.disconnect(); resolve([answered - t0, Math.max(last, answered) - t0]);
    } else if (now - t0 > 60000) { observer.disconnect(); resolve([-1, -1]); }
    else setTimeout(check, 20);
  };
  setTimeout(check, 20);
}); }
"""


class Browser(threading.Thread):
    """One real Chromium on the race page: a key press on GD's learning-rate slider, then
    the time until the server's answer reaches the page (the address bar shows the new
    rate) and until the page is still after it; again and again."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.ready = threading.Event()
        self.stop_now = threading.Event()
        self.answer_ms: list[float] = []
        self.still_ms: list[float] = []
        self.error: str | None = None

    def press(self, page, i: int) -> tuple[float, float]:
        from benchmarks.latency import RACE_SLIDER
        slider = page.locator(RACE_SLIDER).first
        slider.focus()
        before = page.evaluate("location.search")
        t0 = page.evaluate("performance.now()")
        page.evaluate(ANSWER_WATCH, [t0, before])  # armed, not awaited
        slider.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        return tuple(page.evaluate("window.__answer"))

    def run(self) -> None:
        from playwright.sync_api import sync_playwright

        from benchmarks.latency import CHROMIUM_ARGS, wait_idle
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium",
                                             headless=True, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 720})
                page.goto(f"{self.url}/race")
                wait_idle(page, ".dl-race-map .main-svg")
                for i in range(2):  # warm the caches this browser's changes hit
                    self.press(page, i)
                self.ready.set()
                i = 0
                while not self.stop_now.is_set():
                    answer, still = self.press(page, i)
                    if answer >= 0:
                        self.answer_ms.append(answer)
                        self.still_ms.append(still)
                    i += 1
                    self.stop_now.wait(1.0)
                browser.close()
        except Exception as exc:  # noqa: BLE001
            self.error = repr(exc)
        finally:
            self.ready.set()


# ----------------------------------------------------------------------------- one run


def quantile(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(q * (len(xs) - 1))))]


@dataclass
class Figures:
    n: int
    changes: list[float]
    by_kind: dict[str, list[float]]
    opens: list[float]
    slowest_rate: float | None
    median_rate: float | None
    rates_counted: int
    tick_times: list[float]
    updates_per_s: float | None
    cpu_percent: float
    load_cpu_percent: float
    rss_before: float
    rss_peak: float
    errors: list[str]
    browser_ms: list[float]
    browser_still_ms: list[float]
    browser_error: str | None
    seconds: float


async def crowd(url: str, n: int, ramp: float, race_s: float, live_s: float
                ) -> tuple[list[Outcome], tuple[float, float]]:
    start = time.perf_counter() + 0.5
    outcomes = [Outcome() for _ in range(n)]
    joins = [ramp * i / max(n - 1, 1) for i in range(n)]
    await asyncio.gather(*(student(i, url, start, joins[i], race_s, live_s, outcomes[i])
                           for i in range(n)))
    # every student trains between the last one's Play (and 2 s to settle) and the first
    # one's Pause
    spans = [o.live for o in outcomes if o.live is not None]
    if not spans:
        return outcomes, (0.0, 0.0)
    return outcomes, (max(a for a, _ in spans) + 2.0, min(b for _, b in spans))


def measure(url: str, pids: list[int], n: int, ramp: float, race_s: float, live_s: float,
            browser: bool) -> Figures:
    chromium = None
    if browser:
        chromium = Browser(url)
        chromium.start()
        chromium.ready.wait(180)
    sampler = Sampler(pids)
    sampler.start()
    rss_before = tree_rss_mb(pids)
    cpu0 = tree_cpu_seconds(pids)
    me0 = cpu_seconds(os.getpid())
    t0 = time.perf_counter()
    outcomes, (live0, live1) = asyncio.run(crowd(url, n, ramp, race_s, live_s))
    seconds = time.perf_counter() - t0
    cpu = tree_cpu_seconds(pids) - cpu0
    me = cpu_seconds(os.getpid()) - me0
    peak = sampler.finish()
    browser_ms, browser_still, browser_error = [], [], None
    if chromium is not None:
        chromium.stop_now.set()
        chromium.join(90)
        browser_ms, browser_still = chromium.answer_ms, chromium.still_ms
        browser_error = chromium.error
    rates = [r for o in outcomes if (r := rate_in(o.epochs, live0, live1)) is not None]
    updates = [sum(live0 <= t <= live1 for t in o.updates) / (live1 - live0)
               for o in outcomes] if live1 - live0 >= 5 else []
    if live1 - live0 < 5:  # no common window (a short run): each student's whole training
        rates = [r for o in outcomes if o.epochs and
                 (r := rate_in(o.epochs, o.epochs[0][0], o.epochs[-1][0])) is not None]
    return Figures(
        n=n, changes=[s for o in outcomes for _, s in o.changes],
        by_kind={k: [s for o in outcomes for kind, s in o.changes if kind == k]
                 for k in ("lr", "click", "optimizers", "scenario", "play", "pause")},
        opens=[s for o in outcomes for s in o.opens],
        slowest_rate=min(rates) if rates else None,
        median_rate=statistics.median(rates) if rates else None, rates_counted=len(rates),
        tick_times=[t for o in outcomes for t in o.tick_times],
        updates_per_s=statistics.median(updates) if updates else None,
        cpu_percent=100 * cpu / seconds, load_cpu_percent=100 * me / seconds,
        rss_before=rss_before, rss_peak=peak,
        errors=[e for o in outcomes for e in o.errors],
        browser_ms=browser_ms, browser_still_ms=browser_still, browser_error=browser_error,
        seconds=seconds)


@dataclass
class Served:
    url: str                 # where the students go
    app_urls: list[str]      # each app process directly (to warm it up)
    apps: list               # the app processes
    nginx: object | None = None
    prefix: Path | None = None

    def stop(self) -> None:
        stop_all([*([self.nginx] if self.nginx else []), *self.apps])
        if self.prefix is not None:
            shutil.rmtree(self.prefix, ignore_errors=True)


def serve(processes: int) -> Served:
    """A fresh app: one ``streamlit run``, or several behind nginx (deploy/classroom.py)."""
    if processes == 1:
        port = free_port()
        app = start_streamlit(ROOT / "app.py", port, cwd=ROOT)
        return Served(f"http://127.0.0.1:{port}", [f"http://127.0.0.1:{port}"], [app])
    ports = [free_port() for _ in range(processes)]
    apps = start_apps(ports)
    prefix = Path(tempfile.mkdtemp(prefix="descent-lab-load-"))
    listen = free_port()
    try:
        nginx = start_nginx([f"127.0.0.1:{p}" for p in ports], str(listen), prefix)
    except Exception:
        stop_all(apps)
        shutil.rmtree(prefix, ignore_errors=True)
        raise
    return Served(f"http://127.0.0.1:{listen}", [f"http://127.0.0.1:{p}" for p in ports],
                  apps, nginx, prefix)


def warm_up(url: str) -> None:
    """One student visits both pages first: imports, caches and plotly.js are ready."""
    async def visit() -> None:
        s = Session(url, "race")
        await s.open(timeout=180)
        await s.goto("network", timeout=180)
        await s.close()
    asyncio.run(visit())
    time.sleep(1.0)


# ----------------------------------------------------------------------------- idle tabs


def idle_memory(n: int) -> dict[str, float]:
    """Resident memory: before, with ``n`` idle tabs (race, then the network page), after
    they closed and expired, and with ``n`` new idle tabs (whether the first ones' memory
    was given back to the process: Python keeps freed memory for reuse rather than
    returning it to the system, so "released" shows as no growth the second time)."""
    port = free_port()
    app = start_streamlit(ROOT / "app.py", port, cwd=ROOT,
                          options=("--server.disconnectedSessionTTL", str(IDLE_TTL)))
    url = f"http://127.0.0.1:{port}"

    async def open_idle() -> list[Session]:
        sessions = []
        for _ in range(n):
            s = Session(url, "race")
            await s.open(timeout=120)
            await s.goto("network", timeout=120)
            sessions.append(s)
        await asyncio.sleep(3)
        return sessions

    async def close_all(sessions: list[Session]) -> None:
        for s in sessions:
            await s.close()
        await asyncio.sleep(IDLE_TTL + 3)
        await _touch(url)  # a new tab: Streamlit drops the expired sessions
        await asyncio.sleep(2)

    async def run() -> dict[str, float]:
        await close_all([])  # the warm-up's session expires
        m = {"n": n, "before": tree_rss_mb([app.pid])}
        first = await open_idle()
        m["opened"] = tree_rss_mb([app.pid])
        await close_all(first)
        m["closed"] = tree_rss_mb([app.pid])
        second = await open_idle()
        m["again"] = tree_rss_mb([app.pid])
        await close_all(second)
        return m

    try:
        warm_up(url)
        return asyncio.run(run())
    finally:
        stop(app)


async def _touch(url: str) -> None:
    s = Session(url, "")
    await s.open(timeout=120)
    await s.close()


# ----------------------------------------------------------------------------- report


def _pair(xs: list[float], scale: float = 1.0, digits: int = 2) -> str:
    if not xs:
        return "—"
    return f"{scale * quantile(xs, .5):.{digits}f} / {scale * quantile(xs, .95):.{digits}f}"


def print_table(rows: list[Figures], where: str) -> None:
    print(f"\n{where}")
    print(f"{'N':>3} {'changes':>7} {'change p50/p95 s':>17} {'open p95 s':>10} "
          f"{'epochs/s min·median':>20} {'updates/s':>9} {'update p50/p95 s':>17} "
          f"{'server CPU':>10} {'load gen':>8} {'RSS before→peak MB':>18} {'errors':>6} "
          f"{'Chromium answer p50/p95 ms':>26} {'still p50/p95 ms':>17}")
    for f in rows:
        rate = ("—" if f.slowest_rate is None
                else f"{f.slowest_rate:.1f} · {f.median_rate:.1f} ({f.rates_counted})")
        updates = "—" if f.updates_per_s is None else f"{f.updates_per_s:.1f}"
        print(f"{f.n:>3} {len(f.changes):>7} {_pair(f.changes):>17} "
              f"{quantile(f.opens, .95):>10.2f} {rate:>20} {updates:>9} "
              f"{_pair(f.tick_times):>17} {f.cpu_percent:>9.0f}% {f.load_cpu_percent:>7.0f}% "
              f"{f.rss_before:>8.0f} → {f.rss_peak:<7.0f} {len(f.errors):>6} "
              f"{_pair(f.browser_ms, digits=0):>26} {_pair(f.browser_still_ms, digits=0):>17}")
    print("per kind of change, p50 / p95 s (count):")
    for f in rows:
        print(f"  N={f.n:<3} " + "  ".join(
            f"{k} {_pair(v)} ({len(v)})" for k, v in f.by_kind.items() if v))
    for f in rows:
        for e in f.errors[:5]:
            print(f"  N={f.n} error: {e}")
        if len(f.errors) > 5:
            print(f"  N={f.n}: {len(f.errors) - 5} more errors")
        if f.browser_error:
            print(f"  N={f.n} Chromium: {f.browser_error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="1,10,30,60",
                        help="comma-separated class sizes, one run each")
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which they join")
    parser.add_argument("--race", type=float, default=20.0, help="seconds on the race page")
    parser.add_argument("--live", type=float, default=40.0, help="seconds of live training")
    parser.add_argument("--no-browser", action="store_true", help="no real Chromium")
    parser.add_argument("--idle", type=int, default=30,
                        help="idle tabs for the memory measure (0: skip it)")
    parser.add_argument("--processes", type=int, default=1,
                        help="app processes; more than 1: behind nginx (deploy/classroom.py)")
    args = parser.parse_args()
    sizes = [min(int(n), MAX_STUDENTS) for n in args.students.split(",") if n.strip()]

    print(f"{os.cpu_count()} cores; load average before: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; other busy processes:")
    for line in busy_processes() or ["  (none above 5 % of a core)"]:
        print(f"  {line}")
    rows = []
    for n in sizes:
        served = serve(args.processes)
        try:
            for app_url in served.app_urls:
                warm_up(app_url)
            rows.append(measure(served.url, [p.pid for p in served.apps], n, args.ramp,
                                args.race, args.live, not args.no_browser))
        finally:
            served.stop()
        print(f"  N={n} done in {rows[-1].seconds:.0f} s")
    print_table(rows, "one server process" if args.processes == 1 else
                f"{args.processes} server processes behind nginx (CPU and RSS: their sum)")

    if args.idle and args.processes == 1:
        m = idle_memory(min(args.idle, MAX_STUDENTS))
        print(f"\nidle tabs (race, then the network page), {m['n']} of them: RSS "
              f"{m['before']:.0f} → {m['opened']:.0f} MB = "
              f"{(m['opened'] - m['before']) / m['n']:.1f} MB per session; closed and expired "
              f"({IDLE_TTL} s TTL): {m['closed']:.0f} MB; {m['n']} new idle tabs: "
              f"{m['again']:.0f} MB ({m['again'] - m['closed']:+.0f} MB: the first tabs' "
              "memory was reused)")
    print(f"(measured {time.strftime('%Y-%m-%d %H:%M')}; load average after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()
