from e2e_helpers import no_exception_on_page, screenshot, wait_for_app

import texts
from engine.scenarios import SCENARIOS


def test_race_in_korean_survives_a_scenario_click(page, app_url):
    page.goto(f"{app_url}/race?lang=ko")
    wait_for_app(page)
    no_exception_on_page(page)
    assert texts.strings("ko")["race.title"] in page.locator("h4").first.inner_text()
    title = (texts.strings("ko").get("race.scenario_titles.lr_too_large")
             or SCENARIOS["lr_too_large"].title)
    page.locator(".st-key-sc button").filter(has_text=title).first.click()
    wait_for_app(page)
    no_exception_on_page(page)
    assert "lang=ko" in page.url and "sc=lr_too_large" in page.url
    screenshot(page, "race_korean")
    assert not page.errors
