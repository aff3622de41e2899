"""The language picker: ?lang=ko opens the app in Korean, on every page, and stays in the URL."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import texts

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def korean(key: str) -> str:
    return texts.strings("ko")[key]


@pytest.mark.parametrize("page", ["app_pages/home.py", "app_pages/race.py",
                                  "app_pages/network.py"])
def test_korean_link_opens_every_page_in_korean(page):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "ko"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.sidebar.selectbox(key="lang").value == "ko"
    assert at.query_params["lang"] in ("ko", ["ko"])
    shown = " ".join(e.value for e in [*at.markdown, *at.title] if isinstance(e.value, str))
    expected = {"app_pages/home.py": "home.tagline", "app_pages/race.py": "race.title",
                "app_pages/network.py": "network.title"}[page]
    assert korean(expected) in shown


def test_unknown_language_in_link_falls_back_to_english():
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = "xx"
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="lang").value == "en"
    assert "lang" not in at.query_params


def test_switching_language_on_the_race_page_keeps_it_working():
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.switch_page("app_pages/race.py").run()
    at.sidebar.selectbox(key="lang").set_value("ko").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["lang"] in ("ko", ["ko"])
