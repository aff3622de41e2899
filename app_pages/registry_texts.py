"""The engine registries' texts in the current language.

The engine keeps its own English (titles, stories, summaries, slider help) for notebooks;
en.toml copies it under ``race.scenario_titles`` / ``race.scenario_watch`` and
``registry.<kind>.<key>.<field>`` so a language file can translate it (the keys are checked
against the registries by tests/test_registry_texts.py). Each function falls back to the
engine's text, so a registry entry not yet copied still shows words, not a key.
"""

from __future__ import annotations

from engine import datasets, expression, mlp, optimizers, schedules
from engine.scenarios import SCENARIOS
from engine.surfaces import SURFACES
from texts import has, t, t_or

ERROR_SECTIONS = {expression.ExpressionError: "expression", datasets.DatasetError: "dataset"}


def scenario_title(key: str) -> str:
    return t_or(f"race.scenario_titles.{key}", SCENARIOS[key].title)


def scenario_watch(key: str) -> str:
    return t_or(f"race.scenario_watch.{key}", SCENARIOS[key].what_to_watch)


def surface_title(key: str) -> str:
    return t_or(f"registry.surfaces.{key}.title", SURFACES[key].title)


def surface_story(key: str) -> str:
    return t_or(f"registry.surfaces.{key}.story", SURFACES[key].story)


def optimizer_title(key: str) -> str:
    return t_or(f"registry.optimizers.{key}.title", optimizers.OPTIMIZERS[key].title)


def optimizer_summary(key: str) -> str:
    return t_or(f"registry.optimizers.{key}.summary", optimizers.OPTIMIZERS[key].summary)


def optimizer_notes_diff(key: str) -> str:
    """How the study notes write optimizer ``key``'s rule differently ('' if the same)."""
    english = optimizers.OPTIMIZERS[key].notes_diff
    if not english:
        return ""
    # the language files hold it as a format template (its LaTeX braces doubled)
    return t_or(f"teach.notes_diff.{key}", english.replace("{", "{{").replace("}", "}}")
                ).format()


def hyper_help(key: str, hyper) -> str:
    """Help of one hyper-parameter (a HyperSpec of optimizer ``key``)."""
    return t_or(f"registry.optimizers.{key}.help.{hyper.name}", hyper.help)


def dataset_title(key: str) -> str:
    return t_or(f"registry.datasets.{key}.title", datasets.DATASETS[key].title)


def dataset_story(key: str) -> str:
    return t_or(f"registry.datasets.{key}.story", datasets.DATASETS[key].story)


def schedule_title(kind: str) -> str:
    return t_or(f"registry.schedules.{kind}.title", schedules.SCHEDULES[kind].title)


def schedule_help(kind: str, hyper) -> str | None:
    """Help of one hyper-parameter (a HyperSpec) of schedule ``kind`` (None when the engine
    gives none)."""
    return t_or(f"registry.schedules.{kind}.help.{hyper.name}", hyper.help) if hyper.help \
        else None


def activation_title(key: str) -> str:
    return t_or(f"registry.activations.{key}.title", mlp.ACTIVATIONS[key].title)


def error_message(error: ValueError) -> str:
    """An engine error a student caused (a typed formula, an uploaded file) in the current
    language: ``teach.<expression|dataset>.<code>`` filled with the error's fields, or the
    engine's English when the language file lacks it."""
    key = f"teach.{ERROR_SECTIONS[type(error)]}.{error.code}"
    return t(key, **error.params) if has(key) else str(error)
