"""Every page at 100 %, 150 % and 200 % browser zoom on a 1280×720 and a 1920×1080 screen:
no control's label is cut, the main chart keeps a usable plot area, controls do not overlap.

Browser zoom scales CSS pixels: at zoom z a W×H screen lays the page out in a
(W/z)×(H/z) CSS-pixel viewport drawn with z device pixels per CSS pixel. A context with
that viewport and ``device_scale_factor=z`` reproduces it (a device scale factor alone
does not reflow the page). One browser, one context per screen and zoom, one tab reused
for the six pages. The checks read element boxes (getBoundingClientRect) in the page;
screenshots go to a temporary folder (its path is printed; look at them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from e2e_helpers import no_exception_on_page, wait_for_app

SCREENS = [(1280, 720), (1920, 1080)]
ZOOMS = [1.0, 1.5, 2.0]
# page path -> the main chart's container (by key) and what inside it is the plot area
PAGES = {
    "": None,
    "race": (".st-key-race_map", ".nsewdrag"),
    "network": (".st-key-nn_map", ".nsewdrag"),
    "lab": (".st-key-lab_phase_chart", ".nsewdrag"),
    "backprop": (".st-key-bp_apples_graph", "svg"),
    "functions": (".st-key-fn_activation_chart", ".nsewdrag"),
}
# the network page belongs to another issue: its findings are printed, not asserted
REPORT_ONLY = {"network"}

# Runs in the page: returns a list of problems, each a short string naming the element.
CHECK_JS = r"""
([chartSel, plotSel]) => {
  const problems = [];
  const main = document.querySelector('[data-testid="stMain"]');
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    const s = getComputedStyle(el);
    return s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0';
  };
  const name = (el) => {
    const key = el.closest('[class*="st-key-"]');
    const k = key ? [...key.classList].find(c => c.startsWith('st-key-')) : '';
    return `${k} ${el.tagName.toLowerCase()} "${(el.innerText || '').trim().slice(0, 30)}"`;
  };
  // (a) labels that are cut: text wider than its box, or an active ellipsis (Streamlit
  // cuts a long button or toggle label in a div with text-overflow: ellipsis)
  const labels = main.querySelectorAll(
    '[data-testid="stWidgetLabel"] p, button, button p, button[role="tab"] p, .dl-btn, ' +
    '.dl-name, .dl-step-label, [data-testid="stMarkdownContainer"] h4, ' +
    '[data-testid="stHeading"] h1, [data-testid="stHeading"] h2, [data-testid="stHeading"] h3');
  const cut = new Set();
  for (const el of labels) {
    if (visible(el) && el.scrollWidth > el.clientWidth + 1) cut.add(el);
  }
  for (const el of main.querySelectorAll('*')) {
    if (el.closest('.js-plotly-plot, [data-testid="stDataFrame"]')) continue;
    if (getComputedStyle(el).textOverflow === 'ellipsis' && visible(el)
        && el.scrollWidth > el.clientWidth + 1 && ![...cut].some(c => c.contains(el)))
      cut.add(el);
  }
  // a selectbox shows its value in an input (it cannot wrap): cut when it scrolls, in the
  // sidebar too (its width is the sidebar's)
  for (const el of document.querySelectorAll(
      '[data-testid="stMain"] [data-testid="stSelectbox"] input, ' +
      '[data-testid="stSidebar"][data-collapsed="false"] [data-testid="stSelectbox"] input')) {
    if (visible(el) && el.value && el.scrollWidth > el.clientWidth + 1) cut.add(el);
  }
  for (const el of cut) problems.push(`cut: ${name(el)} ${el.value || ''}`.trim());
  // ... or pushed out of the page's right edge
  const right = main.getBoundingClientRect().right;
  for (const el of main.querySelectorAll('button, input, [data-baseweb="select"]')) {
    if (visible(el) && !el.closest('.js-plotly-plot')
        && el.getBoundingClientRect().right > right + 1) problems.push(`off page: ${name(el)}`);
  }
  // a row of pills scrolls sideways (behind a fade) when it does not fit: one is hidden
  for (const row of main.querySelectorAll('[data-testid="stButtonGroup"] div')) {
    if (visible(row) && getComputedStyle(row).overflowX !== 'visible'
        && row.scrollWidth > row.clientWidth + 1) problems.push(`cut: pills of ${name(row)}`);
  }
  // the tab list scrolls sideways when the tabs do not fit: a tab is then hidden
  for (const list of main.querySelectorAll('[role="tablist"]')) {
    if (visible(list) && list.scrollWidth > list.clientWidth + 1)
      problems.push(`cut: tabs of ${name(list)}`);
  }
  // (b) the main chart's plot area
  if (chartSel) {
    const box = document.querySelector(chartSel);
    if (!box) problems.push(`no chart ${chartSel}`);
    else {
      const areas = [...box.querySelectorAll(plotSel)].filter(visible)
        .map(el => el.getBoundingClientRect());
      const best = areas.sort((a, b) => b.width * b.height - a.width * a.height)[0];
      const width = box.getBoundingClientRect().width;
      if (!best) problems.push(`no plot area in ${chartSel}`);
      else if (best.width < width / 3 || best.height < 150)
        problems.push(`small plot: ${chartSel} ${Math.round(best.width)}x` +
                      `${Math.round(best.height)} in ${Math.round(width)} px`);
    }
  }
  // (b') every other Plotly chart on screen: its plot area is a third of its width
  for (const plot of main.querySelectorAll('.js-plotly-plot')) {
    if (!visible(plot) || (chartSel && plot.closest(chartSel))) continue;
    const areas = [...plot.querySelectorAll('.nsewdrag')].filter(visible)
      .map(el => el.getBoundingClientRect());
    if (!areas.length) continue;  // a 3-D scene has none
    const best = areas.sort((a, b) => b.width * b.height - a.width * a.height)[0];
    const width = plot.getBoundingClientRect().width;
    if (best.width < width / 3 || best.height < 120)
      problems.push(`small plot: ${name(plot)} ${Math.round(best.width)}x` +
                    `${Math.round(best.height)} in ${Math.round(width)} px`);
  }
  // (c) controls that overlap
  const controls = [...main.querySelectorAll(
    'button, input, [data-baseweb="select"], [data-testid="stSlider"], ' +
    '[data-testid="stWidgetLabel"], .js-plotly-plot, [data-testid="stHeading"], ' +
    '[data-testid="stMarkdownContainer"] h4')]
    .filter(el => visible(el) && (el.classList.contains('js-plotly-plot')
                                  || !el.parentElement.closest('.js-plotly-plot')));
  const rects = controls.map(el => el.getBoundingClientRect());
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i], b = controls[j];
      if (a.contains(b) || b.contains(a)) continue;
      const r = rects[i], s = rects[j];
      const dx = Math.min(r.right, s.right) - Math.max(r.left, s.left);
      const dy = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
      if (dx > 3 && dy > 3) problems.push(`overlap: ${name(a)} / ${name(b)}`);
    }
  }
  return problems;
}
"""


def wait_for_chart(page, spec) -> None:
    if spec is None:
        return
    container, area = spec
    page.wait_for_selector(f"{container} {area}", timeout=60_000)
    page.wait_for_timeout(600)  # the chart's resize to its column


@pytest.fixture(scope="module")
def shots() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="descent_lab_layout_"))
    print(f"\nlayout screenshots: {folder}")
    return folder


@pytest.mark.parametrize(("width", "height"), SCREENS, ids=lambda v: str(v))
def test_pages_at_every_zoom(browser, app_url, shots, width, height):
    found: dict[str, list[str]] = {}
    for zoom in ZOOMS:
        context = browser.new_context(
            viewport={"width": round(width / zoom), "height": round(height / zoom)},
            device_scale_factor=zoom)
        page = context.new_page()
        try:
            for path, spec in PAGES.items():
                page.goto(f"{app_url}/{path}")
                wait_for_app(page, 90_000)
                wait_for_chart(page, spec)
                no_exception_on_page(page)
                name = f"{path or 'home'}_{width}_{round(zoom * 100)}.png"
                page.screenshot(path=str(shots / name))
                problems = page.evaluate(CHECK_JS, list(spec) if spec else [None, None])
                if problems:
                    found[f"{path or 'home'} {width}x{height} @{round(zoom * 100)}%"] = problems
        finally:
            context.close()
    for where, problems in found.items():
        print(where, *problems, sep="\n  ")
    failing = {k: v for k, v in found.items() if k.split()[0] not in REPORT_ONLY}
    assert not failing, failing
