"""Share with the class: the address of the experiment on the screen, large, with a QR code,
so thirty students open exactly what the projector shows.

The link is the page's own address: the URL holds the experiment (race_state.py,
network_model.py), so the link reproduces it. Present mode is left out (students get the
normal page); the language stays. ``localhost`` opens nothing on a student's phone: when
the app listens on every interface, the link uses this computer's network address instead;
when it listens on loopback only, the dialog says how to start it so that students reach it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit

import segno
import streamlit as st
from streamlit import net_util

from app_pages import present
from texts import t

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})
LEFT_OUT = frozenset({present.KEY})  # URL parameters the students' link does without


@dataclass(frozen=True)
class Link:
    """What the dialog shows: ``url`` (the QR code and the whole link), ``address`` (what a
    student can type: no query), ``note`` ("lan": localhost replaced by the network
    address, "local_only": nobody else can reach this server, None) and the browser's
    ``host``."""

    url: str
    address: str
    note: str | None
    host: str


def classroom_link(page_url: str, query: Mapping[str, str], listen: str | None,
                   lan_ip: str | None) -> Link:
    """The link students open, from the teacher's page URL (``st.context.url``, no query),
    the page's query parameters, the address the server listens on (``server.address``,
    None = every interface) and this computer's network address."""
    parts = urlsplit(page_url)
    host = parts.hostname or ""
    netloc, note = parts.netloc, None
    if host in LOOPBACK:
        if (listen or "0.0.0.0") in ("0.0.0.0", "::") and lan_ip and lan_ip not in LOOPBACK:
            netloc = lan_ip + (f":{parts.port}" if parts.port else "")
            note = "lan"
        else:
            note = "local_only"
    address = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    kept = urlencode({k: v for k, v in query.items() if k not in LEFT_OUT})
    return Link(address + (f"?{kept}" if kept else ""), address, note, host)


def qr_data_uri(url: str) -> str:
    """The QR code of ``url``: an SVG data URI that scales to its box without blur (error
    correction M: a projected code still reads with a few smudged modules)."""
    return segno.make(url, error="m").svg_data_uri(dark="#0f172a", light="#ffffff",
                                                   border=2, omitsize=True)


_CSS = """<style>
.dl-share{display:flex;gap:2rem;align-items:center;flex-wrap:wrap}
.dl-share-qr{flex:0 0 auto;width:min(56vh,560px);aspect-ratio:1}
.dl-share-qr img{width:100%;height:100%;display:block;image-rendering:pixelated}
.dl-share-text{flex:1 1 18rem;min-width:0}
.dl-share-address{font-size:clamp(1.6rem,3.2vw,2.6rem);font-weight:700;line-height:1.2;
  overflow-wrap:anywhere;font-family:ui-monospace,SFMono-Regular,Menlo,monospace;
  color:#0f172a;margin:.4rem 0 1rem}
.dl-share-text p{font-size:1.1rem}
</style>"""


def _dialog_body(link: Link) -> None:
    with st.container(key="share_dialog"):
        st.html(f"""{_CSS}<div class="dl-share">
<div class="dl-share-qr"><img alt="QR code" src="{qr_data_uri(link.url)}"
 data-url="{escape(link.url)}"></div>
<div class="dl-share-text"><p>{escape(t("share.scan"))}</p>
<div class="dl-share-address">{escape(link.address)}</div>
<p>{escape(t("share.exact"))}</p></div></div>""")
        if link.note == "lan":
            st.info(t("share.lan", host=link.host), icon=":material/wifi:")
        elif link.note == "local_only":
            with st.container(key="share_local_only"):
                st.warning(t("share.local_only", host=link.host), icon=":material/wifi_off:")
        st.caption(t("share.full_link"))
        st.code(link.url, language=None, wrap_lines=True)


def button(container=st) -> None:
    """The "Share with the class" button (``share_open``); a click opens the dialog."""
    # icon only: it sits beside the Present switch in a page's title row, which a projector
    # (1280 px wide) leaves no room to grow; the tooltip names it
    if not container.button("", key="share_open", icon=":material/qr_code_2:",
                            help=t("share.help")):
        return
    link = classroom_link(st.context.url or "", st.query_params.to_dict(),
                          st.get_option("server.address"), net_util.get_internal_ip())

    @st.dialog(t("share.title"), width="large", icon=":material/groups:")
    def dialog() -> None:
        _dialog_body(link)

    dialog()
