"""The Neural-network page's scenario "Overfitting and its cures" (app_pages/network_overfit.py)
under AppTest: every number the page states equals the one computed here from the engine's
own run (engine.overfitting.run, trained again in this test, not read from the page's
cache), each cure's button adds its curves, and the link carries the scenario.

Also the page's link handling (issue 12): a link's scenario ``sc`` sets the scenario's
controls and shows its "what to watch" box; unknown names and out-of-range values get the
race page's notices and leave the address bar corrected.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from canvas_payload import decode
from streamlit.testing.v1 import AppTest

from app_pages import network_model as nm
from app_pages import network_overfit as ov
from app_pages import url_values as uv
from engine import overfitting as of

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "network.py")
APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture(scope="module")
def engine():
    """The engine's run and the numbers the page must state, computed independently."""
    c = of.run(of.SCENARIO)
    none = c.column("none")
    test, train = c.test[:, none], c.train[:, none]
    best = int(np.argmin(test))
    W = of.weights(c.net, c.theta)
    k_val = int(np.argmin(c.validation[:, none]))
    drop = c.test[:, c.column("dropout")]
    return dict(
        c=c, best_epoch=int(c.epochs[best]), best_test=test[best], final_test=test[-1],
        rise=test[-1] / test[best], train_start=train[0], train_final=train[-1],
        final={"l2": c.test[-1, c.column("l2")], "dropout": drop[-1],
               "l1": c.test[-1, c.column("l1")],
               of.EARLY_STOPPING: test[k_val]},
        train_l2=c.train[-1, c.column("l2")],
        kept=int(c.epochs[k_val]), stopped=int(c.epochs[k_val]) + of.SCENARIO.patience,
        dropout_best=drop.min(), dropout_best_epoch=int(c.epochs[np.argmin(drop)]),
        near_zero={k: np.mean(np.abs(W[c.column(k)]) < 0.01) for k in ("none", "l2", "l1")},
        largest={k: np.abs(W[c.column(k)]).max() for k in ("none", "l2", "l1")})


def page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def keyed(at: AppTest, key: str) -> list:
    """Every element or container of the page with widget/container key ``key``."""
    def walk(node):
        for child in getattr(node, "children", {}).values():
            if getattr(child, "key", None) == key:
                yield child
            yield from walk(child)
    return list(walk(at.main))


def watch_box(at: AppTest) -> str:
    """The text of the "what to watch" box (the container keyed nn_watch)."""
    boxes = keyed(at, "nn_watch")
    assert len(boxes) == 1
    return " ".join(i.value for i in boxes[0].info)


def markdown_in(at: AppTest, key: str) -> str:
    found = keyed(at, key)
    assert found, f"no container {key!r}"
    return " ".join(md.value for md in found[0].markdown)


def chart(at: AppTest, key: str) -> dict:
    found = [c for c in at.get("plotly_chart") if c.proto.id.endswith(f"-{key}")]
    assert len(found) == 1, f"no chart {key!r}"
    return json.loads(found[0].proto.spec)


def num(x: float) -> str:
    return f"{x:.3g}"


# --------------------------------------------------------------------------- the scenario


def test_the_what_to_watch_box_states_the_engines_numbers(engine):
    at = page({"sc": "overfitting"})
    assert not at.exception
    box = watch_box(at)
    for text in (f"lowest at epoch {engine['best_epoch']} ({num(engine['best_test'])})",
                 f"rises ×{engine['rise']:.1f} to {num(engine['final_test'])}",
                 f"({num(engine['train_start'])} → {num(engine['train_final'])})",
                 f"{engine['c'].net.n_params:,} parameters"):
        assert text in box, (text, box)
    # what the text claims holds on these numbers: train falls, test rises after its best
    assert engine["train_final"] < 1e-2 < engine["train_start"]
    assert engine["rise"] > 2.5 and 0 < engine["best_epoch"] < of.SCENARIO.epochs
    # the scenario's own view, not live training
    assert not [b for b in at.button if b.key == "nn_play"]
    assert at.query_params["sc"] == "overfitting"


def test_each_cure_button_adds_its_curves_and_its_numbers(engine):
    at = page({"sc": "overfitting"})
    base = chart(at, "nn_of_curves")
    assert len(base["data"]) == 3  # no cure: train, validation, test
    for i, key in enumerate(("l2", "dropout", "l1"), start=1):
        at.button(key=f"nn_of_{key}").click().run()
        assert not at.exception
        fig = chart(at, "nn_of_curves")
        assert len(fig["data"]) == 3 + 2 * i  # each cure adds its train and test lines
        text = markdown_in(at, f"nn_of_result_{key}")
        assert f"Final test loss **{num(engine['final'][key])}**" in text, text
        assert f"(no cure: {num(engine['final_test'])})" in text
    # the claims of the texts: L2 keeps a training loss far from zero; dropout helps only
    # part of the way and still creeps up; L1 beats no cure but not L2
    assert f"stays at {num(engine['train_l2'])}" in markdown_in(at, "nn_of_result_l2")
    assert engine["train_l2"] > 100 * engine["train_final"]
    dropout = markdown_in(at, "nn_of_result_dropout")
    assert (f"from {num(engine['dropout_best'])} at epoch {engine['dropout_best_epoch']} to "
            f"{num(engine['final']['dropout'])}") in dropout
    final = engine["final"]
    assert final["dropout"] > engine["dropout_best"] * 1.2  # creeps up
    assert final["l2"] < final["dropout"] < 0.5 * engine["final_test"]
    assert final[of.EARLY_STOPPING] < final["dropout"]
    assert final["l2"] < final["l1"] < engine["final_test"]
    # a second click removes the cure again
    at.button(key="nn_of_dropout").click().run()
    assert len(chart(at, "nn_of_curves")["data"]) == 3 + 2 * 2
    assert not keyed(at, "nn_of_result_dropout")


def test_early_stopping_marks_where_it_stops_and_what_it_keeps(engine):
    at = page({"sc": "overfitting"})
    at.button(key=f"nn_of_{of.EARLY_STOPPING}").click().run()
    assert not at.exception
    fig = chart(at, "nn_of_curves")
    star = [tr for tr in fig["data"] if tr.get("marker", {}).get("symbol") == "star"]
    assert len(star) == 1
    assert star[0]["x"] == [engine["kept"]]
    assert star[0]["y"][0] == pytest.approx(engine["final"][of.EARLY_STOPPING], rel=1e-12)
    lines = [s for s in fig["layout"]["shapes"] if s["type"] == "line"]
    assert {s["x0"] for s in lines} == {engine["stopped"]}
    text = markdown_in(at, f"nn_of_result_{of.EARLY_STOPPING}")
    assert (f"lowest at epoch {engine['kept']}" in text
            and f"stops at epoch {engine['stopped']}" in text
            and f"**{num(engine['final'][of.EARLY_STOPPING])}**" in text)


def test_weight_histogram_text_gives_the_engines_near_zero_fractions(engine):
    at = page({"sc": "overfitting"})
    text = markdown_in(at, "nn_of_hist_text")
    nz = engine["near_zero"]
    assert f"L1 leaves **{ov.percent(nz['l1'])}**" in text
    assert f"no cure: {ov.percent(nz['none'])}, L2: {ov.percent(nz['l2'])}" in text
    assert f"largest |w| is {num(engine['largest']['l2'])}" in text
    assert nz["l1"] > 0.9 and nz["l2"] < 0.1 and nz["none"] < 0.1  # zeros vs shrinkage
    assert engine["largest"]["l2"] < 0.1 * engine["largest"]["none"]
    fig = chart(at, "nn_of_hist")
    assert len(fig["data"]) == 3
    counts = [float(decode(tr["y"]).sum()) for tr in fig["data"]]
    assert counts == [engine["c"].net.n_params - sum(engine["c"].net.sizes[1:])] * 3


def test_story_reads_the_run():
    """story() on a short run of its own: each field is the curve's value it names."""
    c = of.run(of.Scenario(epochs=200, patience=50))
    s = ov.story(c)
    none = c.column("none")
    assert s.best_test == c.test[:, none].min() and s.final_test == c.test[-1, none]
    assert s.rise == pytest.approx(s.final_test / s.best_test)
    assert s.finals[of.EARLY_STOPPING] == c.final_test(of.EARLY_STOPPING)
    assert s.early_epoch == c.early_epoch and s.stopped_at == c.stopped_at
    assert s.n_weights == sum(a * b for a, b in zip(c.net.sizes, c.net.sizes[1:], strict=False))


def test_changing_a_control_returns_to_live_training():
    at = page({"sc": "overfitting"})
    at.slider(key="noise").set_value(0.2).run()
    assert not at.exception
    assert at.button_group(key="nn_preset").value is None
    assert at.button(key="nn_play") is not None and "sc" not in at.query_params
    assert "Epoch **0** / 2000" in " ".join(md.value for md in at.markdown)


def test_korean_page_shows_the_scenario_in_korean(engine):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "ko"
    at.query_params["sc"] = "overfitting"
    at.run()
    at.switch_page("app_pages/network.py").run()
    assert not at.exception
    box = " ".join(i.value for i in at.info)
    assert "과적합" in box and f"×{engine['rise']:.1f}" in box and "Without" not in box


# --------------------------------------------------------------------------- links (issue 12)


@pytest.mark.parametrize("name", [k for k in nm.PRESETS if k != nm.OVERFITTING])
def test_a_link_with_a_scenario_sets_its_controls_and_shows_its_box(name):
    at = page({"sc": name})
    assert not at.exception and not at.warning
    assert at.button_group(key="nn_preset").value == name
    for key, value in nm.PRESETS[name].items():
        if key != "hyper":
            assert at.session_state[key] == value, key
    assert watch_box(at) and at.query_params["sc"] == name
    # the link the page writes reproduces it
    written = {k: at.query_params[k] for k in at.query_params}
    again = page(written)
    assert again.button_group(key="nn_preset").value == name and not again.warning


def test_a_scenario_link_whose_other_values_change_it_drops_the_box():
    at = page({"sc": "spiral", "hl": "1"})
    assert not at.exception
    assert at.button_group(key="nn_preset").value is None and not keyed(at, "nn_watch")
    assert at.session_state["hl"] == 1 and "sc" not in at.query_params


@pytest.mark.parametrize(("query", "note"), [
    ({"sc": "nope"}, uv.Note("sc", "ignored", "nope")),
    ({"dataset": "nope"}, uv.Note("dataset", "ignored", "nope")),
    ({"layers": "999"}, uv.Note("layers", "ignored", "999")),
    ({"hl": "999"}, uv.Note("hl", "clamped", "999", "4")),
    ({"w": "-3"}, uv.Note("w", "clamped", "-3", "1")),
    ({"noise": "7"}, uv.Note("noise", "clamped", "7", "0.5")),
    ({"ds": "nope"}, uv.Note("ds", "reset", "nope", "xor")),
])
def test_unknown_or_out_of_range_link_values_get_the_race_pages_notice(query, note):
    at = page(query)
    assert not at.exception
    warning = " ".join(w.value for w in at.warning)
    assert warning == uv.message(note)  # the exact words, as on the race page
    name = note.name
    if note.what == "clamped":
        assert at.query_params[name] == note[3]  # corrected in the address bar
    else:
        assert name not in at.query_params  # removed from it
    assert at.button(key="nn_play") is not None


def test_parse_query_clamps_numbers_and_reports_unknown_names():
    values, notes = nm.parse_query({"hl": "9", "n": "1e9", "sc": "spiral", "zoom": "2",
                                    "lang": "ko", "present": "1"})
    assert values == {"hl": 4, "n": nm.MAX_POINTS, "nn_preset": "spiral"}
    assert sorted((n.name, n.what) for n in notes) == [("hl", "clamped"), ("n", "clamped"),
                                                       ("zoom", "ignored")]


def test_the_cures_shown_travel_in_the_link():
    at = page({"sc": "overfitting"})
    at.button(key="nn_of_l2").click().run()
    at.button(key=f"nn_of_{of.EARLY_STOPPING}").click().run()
    assert at.query_params["cures"] == f"l2,{of.EARLY_STOPPING}"
    again = page({k: at.query_params[k] for k in at.query_params})
    assert not again.exception and not again.warning
    assert keyed(again, "nn_of_result_l2") and keyed(again, f"nn_of_result_{of.EARLY_STOPPING}")
    assert len(chart(again, "nn_of_curves")["data"]) == 3 + 2 + 1  # L2's lines, the star
    bad = page({"sc": "overfitting", "cures": "l2,magic"})
    assert " ".join(w.value for w in bad.warning) == uv.message(
        uv.Note("cures", "partly", "l2,magic", "l2"))
    assert bad.query_params["cures"] == "l2" and keyed(bad, "nn_of_result_l2")


def test_home_points_to_the_scenario_in_both_languages():
    import texts

    try:
        for lang in ("en", "ko"):
            texts.use(lang)
            row = texts.table("home.concepts")["overfitting"][1]
            assert texts.t("overfit.preset") in row  # the scenario's pill, as it is named
            assert row.startswith(texts.t("nav.network"))
    finally:
        texts.use("en")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    links = [el.proto for el in at.get("page_link")]
    assert any("sc=overfitting" in link.query_string for link in links), links
