"""The layout every page shares: CSS that keeps controls whole at any browser zoom.

Browser zoom (which Home recommends for the back row) shrinks the CSS-pixel viewport:
150 % on a 1280×720 projector lays the page out in 853×480 px, 200 % in 640×360. There

* a label is never cut to "Pr…" or "Rese…": button, toggle, tab and page-link labels wrap,
  and a row of tabs or pills wraps rather than scrolling its last one out of sight;
* the sidebar keeps Streamlit's width (312 px made the network page's live training miss
  its Pause in the browser test), and a phone-sized window starts with it collapsed
  (``initial_sidebar_state="auto"``);
* with the sidebar collapsed, its opener (») sits at the top left of the page: the page
  starts to its right, so no title runs under it; in a phone-sized window the header is
  opaque, so the page starts below it.

tests/e2e/test_layout_e2e.py checks these at 100/150/200 % on both screens.
"""

from __future__ import annotations

import streamlit as st

CSS = """<style>
[data-testid='stMain'] [data-testid='stMarkdownEllipsis'],
[data-testid='stMain'] button [data-testid='stMarkdownContainer'],
[data-testid='stMain'] [data-testid='stWidgetLabel'] [data-testid='stMarkdownContainer']
  {white-space:normal;overflow:visible;text-overflow:clip}
[data-testid='stMain'] button p{white-space:normal}
[data-testid='stMain'] [data-testid='stPageLink-NavLink'] span:not([data-testid='stIconMaterial']),
[data-testid='stMain'] [data-testid='stPageLink-NavLink'] p
  {white-space:normal;text-overflow:clip}
[data-testid='stMain'] table th{word-break:keep-all}
[data-testid='stMain'] [role='tablist']{flex-wrap:wrap;row-gap:2px}
[data-testid='stMain'] [data-testid='stButtonGroup'] > div
  {flex-wrap:wrap;overflow-x:visible;mask-image:none;-webkit-mask-image:none}
[data-testid='stSidebar'][data-collapsed='true'] ~ div [data-testid='stMainBlockContainer']
  {padding-left:3.75rem}
@media (max-width:760px){
  .stApp [data-testid='stMainBlockContainer']{padding-top:4rem}
}
</style>"""


def style() -> None:
    """Add the shared CSS to the page (call once per run, before the page's content)."""
    st.html(CSS)
