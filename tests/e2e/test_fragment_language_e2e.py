"""A fragment's rerun keeps the page's language (Streamlit reruns a fragment without
app.py, in a fresh thread: it once fell back to English)."""

from e2e_helpers import no_exception_on_page, screenshot, wait_for_app

import texts

KO = texts.strings("ko")


def test_race_fragment_rerun_stays_korean(page, app_url):
    page.goto(f"{app_url}/race?lang=ko&sc=adagrad_fades")
    wait_for_app(page)
    page.wait_for_selector(".st-key-ex_open", timeout=60_000)
    assert KO["race.title"] in page.locator("h4").first.inner_text()
    summary = page.locator(".st-key-ex_open summary")
    summary.scroll_into_view_if_needed()
    summary.click()  # reruns the page's fragment only
    page.wait_for_selector(".st-key-ex_opt", timeout=60_000)
    wait_for_app(page)
    no_exception_on_page(page)
    assert KO["race.title"] in page.locator("h4").first.inner_text()
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert KO["race.explain_optimizer"] in main and "Explain this step" not in main
    screenshot(page, "race_korean_fragment")
