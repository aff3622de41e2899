"""Present mode: the page as a projector shows it to a class.

One switch per page (widget key ``present``, shared by the pages of a session, and in the
link as ``?present=1``): the sidebar steps aside, charts, type and playback buttons grow,
and what a teacher changes in front of the class stays on screen (the optimizers, the
learning rates under the race map, Play).
"""

from __future__ import annotations

from collections.abc import MutableMapping

import streamlit as st

from texts import t

KEY = "present"

# Hides the sidebar and its opener, and lets the page use the whole screen.
_CSS = ("[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],"
        "[data-testid='stExpandSidebarButton']{display:none}"
        "[data-testid='stMainBlockContainer']{padding:1.2rem 1.5rem;max-width:100%}"
        "[data-testid='stMain'] h4{font-size:2rem}"
        "[data-testid='stMain'] button[role='tab'] p,"
        "[data-testid='stMain'] [data-baseweb='tag'] span,"
        "[data-testid='stMain'] [data-testid='stMarkdownContainer'] p,"
        "[data-testid='stMain'] [data-testid='stAlertContainer'] p{font-size:1.3rem}")


def init(ss: MutableMapping, query: MutableMapping) -> None:
    """The first page of a session takes Present mode from its link."""
    if KEY not in ss:
        ss[KEY] = query.get(KEY) == "1"


def on(ss: MutableMapping) -> bool:
    return bool(ss.get(KEY, False))


def toggle(container=st) -> bool:
    return container.toggle(t("common.present"), key=KEY, help=t("common.present_help"))


def style(ss: MutableMapping) -> None:
    """The page's CSS for Present mode (nothing when off)."""
    if on(ss):
        st.html(f"<style>{_CSS}</style>")


def sync_url(query: MutableMapping, ss: MutableMapping) -> None:
    """Keep ``present=1`` in the link while Present mode is on (and only then)."""
    if on(ss):
        if query.get(KEY) != "1":
            query[KEY] = "1"
    elif KEY in query:
        del query[KEY]
