"""The engine registries' texts are in en.toml (so they can be translated) and shown translated.

en.toml holds, for every registry entry, a copy of the engine's English (a new scenario,
surface, optimizer, dataset, schedule or activation without its entries fails here, and so does
an engine text changed without its copy); the Korean pages show the Korean titles.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

import texts
from app_pages import registry_texts as rt
from engine import datasets, mlp, optimizers, schedules
from engine.scenarios import SCENARIOS
from engine.surfaces import SURFACES

APP = str(Path(__file__).resolve().parents[1] / "app.py")
ENGLISH = texts.strings("en")
KOREAN = texts.strings("ko")


def expected_english() -> dict[str, str]:
    """Every registry text key -> the engine's own English, built from the registries."""
    want: dict[str, str] = {}
    for key, sc in SCENARIOS.items():
        want[f"race.scenario_titles.{key}"] = sc.title
        want[f"race.scenario_watch.{key}"] = sc.what_to_watch
    for key, surface in SURFACES.items():
        want[f"registry.surfaces.{key}.title"] = surface.title
        want[f"registry.surfaces.{key}.story"] = surface.story
    for key, spec in optimizers.OPTIMIZERS.items():
        want[f"registry.optimizers.{key}.title"] = spec.title
        want[f"registry.optimizers.{key}.summary"] = spec.summary
        for hs in spec.hyper:
            want[f"registry.optimizers.{key}.help.{hs.name}"] = hs.help
        if spec.notes_diff:  # a format template: the LaTeX braces doubled
            want[f"teach.notes_diff.{key}"] = spec.notes_diff.replace("{", "{{").replace(
                "}", "}}")
    for key, spec in datasets.DATASETS.items():
        want[f"registry.datasets.{key}.title"] = spec.title
        want[f"registry.datasets.{key}.story"] = spec.story
    for key, spec in schedules.SCHEDULES.items():
        want[f"registry.schedules.{key}.title"] = spec.title
        for p in spec.hyper:
            want[f"registry.schedules.{key}.help.{p.name}"] = p.help
    for key, act in mlp.ACTIVATIONS.items():
        want[f"registry.activations.{key}.title"] = act.title
    return want


EXPECTED = expected_english()


def test_every_registry_entry_has_its_english_copy():
    missing = sorted(k for k in EXPECTED if k not in ENGLISH)
    assert not missing, f"en.toml lacks registry texts: {missing}"


def test_english_copies_match_the_engine():
    stale = sorted(k for k, text in EXPECTED.items() if ENGLISH.get(k, text) != text)
    assert not stale, f"en.toml copies differ from the engine's text: {stale}"


def test_no_entries_for_registry_keys_that_do_not_exist():
    prefixes = ("registry.", "race.scenario_titles.", "race.scenario_watch.",
                "teach.notes_diff.")
    stray = sorted(k for k in ENGLISH if k.startswith(prefixes) and k not in EXPECTED)
    assert not stray, f"en.toml has registry texts for unknown entries: {stray}"


def test_korean_translates_titles_and_stories():
    # brand names (Adam, Rosenbrock, ...) may stay as they are; sentences may not
    sentences = [k for k in EXPECTED if k.startswith(("race.scenario_", "teach.notes_diff."))
                 or k.endswith((".story", ".summary")) or ".help." in k]
    untranslated = sorted(k for k in sentences if KOREAN.get(k) == ENGLISH[k])
    assert not untranslated, untranslated


def test_lookup_uses_the_language_and_falls_back_to_the_engine():
    try:
        texts.use("ko")
        assert rt.scenario_title("saddle") == "안장점"
        assert rt.optimizer_title("gd") == "경사 하강법"
        assert rt.hyper_help("adam", optimizers.OPTIMIZERS["adam"].hyper[0]) == \
            KOREAN["registry.optimizers.adam.help.lr"]
        texts.use("en")
        assert rt.surface_story("sphere") == SURFACES["sphere"].story
        assert texts.t_or("registry.surfaces.no_such_surface.title", "fallback") == "fallback"
    finally:
        texts.use("en")


def korean_page(page: str, **query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "ko"
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_korean_race_page_shows_korean_registry_titles():
    at = korean_page("app_pages/race.py", sc="saddle")
    assert at.sidebar.button_group(key="sc").options == \
        [KOREAN[f"race.scenario_titles.{k}"] for k in SCENARIOS]
    assert at.sidebar.selectbox(key="surf").options[:len(SURFACES)] == \
        [KOREAN[f"registry.surfaces.{k}.title"] for k in SURFACES]
    assert at.multiselect(key="opts").options == \
        [KOREAN[f"registry.optimizers.{k}.title"] for k in optimizers.OPTIMIZERS]
    info = " ".join(str(e.value) for e in at.info)
    assert KOREAN["race.scenario_titles.saddle"] in info
    assert KOREAN["race.scenario_watch.saddle"][:30] in info
    assert SCENARIOS["saddle"].what_to_watch[:30] not in info


def test_korean_network_page_shows_korean_dataset_and_optimizer_titles():
    at = korean_page("app_pages/network.py")
    options = at.sidebar.selectbox(key="ds").options
    assert all(KOREAN[f"registry.datasets.{k}.title"] in options for k in datasets.DATASETS)
    assert at.sidebar.selectbox(key="opt").options == \
        [KOREAN[f"registry.optimizers.{k}.title"] for k in optimizers.OPTIMIZERS]
    shown = " ".join(str(e.value) for e in at.caption)
    assert KOREAN[f"registry.datasets.{at.sidebar.selectbox(key='ds').value}.story"] in shown

