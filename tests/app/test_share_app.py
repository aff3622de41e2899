"""Share with the class (app_pages/share.py): the link students get, its QR code, and the
dialog on the race and network pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from streamlit.testing.v1 import AppTest

from app_pages.share import LOOPBACK, classroom_link, qr_data_uri

PAGES = Path(__file__).resolve().parents[2] / "app_pages"
RACE_QUERY = {"s": "rosenbrock", "o": "gd,adam", "gd.lr": "0.001", "adam.lr": "0.05",
              "lang": "ko", "present": "1"}


def test_a_real_host_is_kept_and_present_mode_left_out():
    link = classroom_link("https://lab.school.example/race", RACE_QUERY, None, "10.0.0.5")
    assert link.note is None
    assert link.address == "https://lab.school.example/race"
    parts = urlsplit(link.url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "lab.school.example", "/race")
    # every parameter of the experiment and the language survive, Present mode does not
    assert parse_qs(parts.query) == {k: [v] for k, v in RACE_QUERY.items() if k != "present"}


@pytest.mark.parametrize("host", sorted(LOOPBACK - {"::1", "::"}))
@pytest.mark.parametrize("listen", [None, "", "0.0.0.0", "::"])
def test_loopback_becomes_the_network_address_when_the_server_listens_everywhere(host, listen):
    link = classroom_link(f"http://{host}:8501/network", {"ds": "spiral"}, listen, "192.168.1.20")
    assert link.note == "lan"
    assert link.host == host
    assert link.url == "http://192.168.1.20:8501/network?ds=spiral"
    assert link.address == "http://192.168.1.20:8501/network"


@pytest.mark.parametrize("listen,lan_ip", [("127.0.0.1", "192.168.1.20"), (None, "127.0.0.1"),
                                           (None, None)])
def test_loopback_only_says_nobody_else_can_reach_it(listen, lan_ip):
    link = classroom_link("http://localhost:8501/race", {"o": "gd"}, listen, lan_ip)
    assert link.note == "local_only"
    assert link.url == "http://localhost:8501/race?o=gd"  # unchanged: the dialog says why


def test_no_query_gives_the_bare_address():
    link = classroom_link("http://lab.example:8080/", {"present": "1"}, None, None)
    assert link.url == link.address == "http://lab.example:8080/"


def test_qr_code_encodes_exactly_the_link_and_stays_readable_from_a_distance():
    link = classroom_link("http://192.168.1.20:8501/race", RACE_QUERY, None, None)
    assert qr_data_uri(link.url) == segno.make(link.url, error="m").svg_data_uri(
        dark="#0f172a", light="#ffffff", border=2, omitsize=True)
    assert qr_data_uri(link.url) != qr_data_uri(link.url + "0")
    # the default race's link is a version <= 10 code (57 modules): drawn 400 px wide,
    # each module is 7 px, which a phone reads from the back of a classroom
    assert segno.make(link.url, error="m").version <= 10


@pytest.mark.parametrize("script,query", [("race.py", RACE_QUERY),
                                          ("network.py", {"ds": "moons", "present": "1"}),
                                          ("lab.py", {"view": "basins"})])
def test_share_button_opens_the_dialog_with_the_page_link(script, query):
    at = AppTest.from_file(str(PAGES / script), default_timeout=120)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception
    codes = len(at.code)
    at.button(key="share_open").click().run()
    assert not at.exception
    assert len(at.code) == codes + 1  # the dialog's link
    shown = at.code[-1].value
    sent = parse_qs(urlsplit(shown).query)
    assert "present" not in sent
    for name, value in query.items():
        if name != "present":
            assert sent[name] == [value], name
