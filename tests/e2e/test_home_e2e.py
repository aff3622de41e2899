from urllib.parse import urlparse

from e2e_helpers import no_exception_on_page, screenshot, wait_for_app


def test_home_page_loads_with_navigation(page, app_url):
    page.goto(app_url)
    wait_for_app(page)
    no_exception_on_page(page)
    page.get_by_role("heading", name="Descent Lab").first.wait_for(timeout=30_000)
    links = page.locator('[data-testid="stSidebarNavLink"]')
    # the last line of each link is its label (the first is the icon's ligature name);
    # the legacy pages/ navigation would show file names ("home", "race", "network")
    labels = [links.nth(i).inner_text().split("\n")[-1] for i in range(links.count())]
    assert labels == ["Home", "Optimizer race", "Neural network", "Backpropagation",
                      "Activations & losses", "Learning-rate lab"]
    page.get_by_role("link", name="Open the optimizer race").click()
    wait_for_app(page)
    # the race may write its state into the query at once: the path is what matters
    page.wait_for_url(lambda url: urlparse(url).path.endswith("/race"), timeout=30_000)
    screenshot(page, "home_then_race")
    assert not page.errors
