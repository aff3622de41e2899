"""The lesson pages in Chromium: step the apple graph to the notes' numbers; the perceptron
cannot compute XOR; Korean renders."""

from __future__ import annotations

from e2e_helpers import no_exception_on_page, screenshot, wait_for_app


def graph_texts(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid="stGraphVizChart"] svg text')].map(t => t.textContent)""")


def click(page, key: str) -> None:
    page.locator(f".st-key-{key} button").click()
    wait_for_app(page)


def test_apple_graph_steps_to_220_and_the_three_gradients(page, app_url):
    page.goto(f"{app_url}/backprop")
    wait_for_app(page)
    no_exception_on_page(page)
    page.wait_for_selector('[data-testid="stGraphVizChart"] svg text')
    assert "220" not in graph_texts(page)
    click(page, "bp_apples_next")
    click(page, "bp_apples_next")
    page.wait_for_function("""() => [...document.querySelectorAll(
        '[data-testid="stGraphVizChart"] svg text')].some(t => t.textContent === '220')""")
    assert "step=2" in page.url
    for _ in range(2):
        click(page, "bp_apples_next")
    page.wait_for_function("""() => [...document.querySelectorAll(
        '[data-testid="stGraphVizChart"] svg text')].some(t => t.textContent === '110')""")
    texts = graph_texts(page)
    for number in ("220", "2.2", "110", "200"):
        assert number in texts, (number, texts)
    screenshot(page, "backprop_apples_1280")
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(500)
    screenshot(page, "backprop_apples_1920")
    assert not page.errors


def test_backprop_network_view_and_update(page, app_url):
    page.goto(f"{app_url}/backprop?view=network")
    wait_for_app(page)
    no_exception_on_page(page)
    page.wait_for_selector('[data-testid="stGraphVizChart"] svg text')
    before = page.locator(".st-key-bp_w0 input").input_value()
    click(page, "bp_update")
    page.wait_for_function(f"""() => document.querySelector('.st-key-bp_w0 input').value
                               !== '{before}'""")
    no_exception_on_page(page)
    screenshot(page, "backprop_network_1280")
    assert not page.errors


def test_perceptron_never_solves_xor_and_korean(page, app_url):
    page.goto(f"{app_url}/functions?view=perceptron&gate=xor&lang=ko")
    wait_for_app(page)
    no_exception_on_page(page)
    alert = page.locator('[data-testid="stAlertContentError"]')
    assert "68,921" in alert.first.inner_text()
    slider = page.locator(".st-key-fn_w1 input[type=range]")
    slider.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('w1=1')")
    wait_for_app(page)
    assert page.locator('[data-testid="stAlertContentError"]').count() >= 1
    screenshot(page, "functions_xor_ko_1280")
    assert not page.errors


def test_functions_views_render(page, app_url):
    for view in ("activations", "vanishing", "softmax", "losses"):
        page.goto(f"{app_url}/functions?view={view}")
        wait_for_app(page)
        no_exception_on_page(page)
        page.wait_for_selector(".js-plotly-plot")
        screenshot(page, f"functions_{view}_1280")
    assert not page.errors
