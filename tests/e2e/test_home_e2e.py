from e2e_helpers import no_exception_on_page, screenshot, wait_for_app


def test_home_page_loads_with_navigation(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    no_exception_on_page(page)
    assert page.get_by_role("heading", name="Descent Lab").first.is_visible()
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert "Optimizer race" in nav.inner_text()
    assert "Neural network" in nav.inner_text()
    # the legacy pages/ navigation would list file names instead of titles
    assert "race" not in nav.inner_text().split()
    screenshot(page, "home")
    assert not page.errors
