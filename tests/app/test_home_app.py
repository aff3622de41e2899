from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def test_home_page_renders_concept_map():
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not at.exception
    assert at.title[0].value == "Descent Lab"
    text = " ".join(md.value for md in at.markdown)
    # every seed concept has a row pointing to the page that shows it
    for concept in ("Momentum", "AdaGrad", "XOR", "Xavier", "dropout", "Backpropagation"):
        assert concept in text
