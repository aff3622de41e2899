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


def test_every_concept_row_points_to_a_page_that_exists():
    """Each "where" of the concept table names pages of the navigation (both languages), and
    the computational graph lives on the Backpropagation page (not under "See inside")."""
    import texts

    for lang in ("en", "ko"):
        texts.use(lang)
        titles = {texts.t(key) for _, key, _ in pages()} | {texts.t("teach.both_pages")}
        for concept, where in texts.table("home.concepts").values():
            for segment in where.split(";"):
                page = segment.split("→")[0].strip()
                assert page in titles, (lang, concept, page)
        graph_rows = [w for c, w in texts.table("home.concepts").values()
                      if texts.t("network.tab_inside") in w and "graph" in w.lower()]
        assert not graph_rows
        backprop = texts.table("home.concepts")["backprop"][1]
        assert backprop.startswith(texts.t("backprop.nav"))
    texts.use("en")


def pages():
    import ast

    tree = ast.parse((Path(APP)).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES":
            return ast.literal_eval(node.value)
    raise AssertionError("no PAGES in app.py")
