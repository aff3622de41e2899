"""Every user-facing string, looked up by key: ``t("race.title")``.

The strings live in ``assets/i18n/<lang>.toml`` (nested tables, dotted keys), so a second
language is a file, not a rewrite. The language is per thread because Streamlit runs each
browser session's script in a thread of its own; ``app.py`` calls :func:`use` at the top of
every run. Missing keys fall back to English, then to the key itself, so a half-translated
file never breaks a page (a test checks that every key used in the code exists in English).
"""

from __future__ import annotations

import threading
import tomllib
from collections.abc import Callable
from functools import cache
from pathlib import Path

# assets/ is a package installed beside this module (package data in pyproject.toml), so the
# same path works in a checkout, an editable install and a plain ``pip install .``
I18N_DIR = Path(__file__).resolve().parent / "assets" / "i18n"
DEFAULT_LANGUAGE = "en"

_current = threading.local()
_source: Callable[[], object] | None = None  # see follow()


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, key + "."))
        else:
            flat[key] = value
    return flat


@cache
def strings(lang: str = DEFAULT_LANGUAGE) -> dict[str, str]:
    """All strings of one language as a flat ``{dotted.key: text}`` mapping."""
    path = I18N_DIR / f"{lang}.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return _flatten(tomllib.load(fh))


@cache
def languages() -> dict[str, str]:
    """Available languages: code -> the language's own name (``meta.language_name``).

    Read once per process (every ``t`` asks: a glob of the folder per call cost a live
    training tick a third of its time)."""
    found = {}
    for path in sorted(I18N_DIR.glob("*.toml")):
        found[path.stem] = strings(path.stem).get("meta.language_name", path.stem)
    return found


def use(lang: str) -> None:
    """Select the language for this thread (this browser session's script run)."""
    _current.lang = lang if lang in languages() else DEFAULT_LANGUAGE


def follow(source: Callable[[], object] | None) -> None:
    """Where the language comes from in a thread that :func:`use` was not called in.

    Streamlit reruns a fragment (``st.fragment``) in a fresh script thread without running
    app.py, so the fragment would speak English; app.py passes the session's language
    (``lambda: st.session_state.get("lang")``)."""
    global _source
    _source = source


def current_language() -> str:
    lang = getattr(_current, "lang", None)
    if lang is None and _source is not None:
        lang = _source()
        # kept for the rest of this thread's run: a fragment asks for ~70 texts a tick, and
        # a change of language is a full run, which calls use() first
        _current.lang = lang if isinstance(lang, str) and lang in languages() else None
    return lang if isinstance(lang, str) and lang in languages() else DEFAULT_LANGUAGE


def t(key: str, /, **fmt) -> str:
    """The text for ``key`` in the current language, with ``{name}`` fields filled from fmt."""
    text = strings(current_language()).get(key)
    if text is None:
        text = strings(DEFAULT_LANGUAGE).get(key, key)
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    return key in strings(DEFAULT_LANGUAGE)


def table(prefix: str) -> dict[str, object]:
    """Every entry under ``prefix.`` (e.g. a list of rows), in the current language."""
    start = prefix + "."
    english = {k[len(start):]: v for k, v in strings(DEFAULT_LANGUAGE).items()
               if k.startswith(start)}
    local = {k[len(start):]: v for k, v in strings(current_language()).items()
             if k.startswith(start)}
    return {key: local.get(key, value) for key, value in english.items()}


def t_or(key: str, fallback: str) -> str:
    """``t(key)`` when en.toml has ``key``, else ``fallback``.

    For the texts of the engine's registries (scenarios, surfaces, optimizers, datasets,
    schedules, activations): the engine keeps its own English for notebooks, and en.toml
    copies it under ``race.scenario_titles.<key>``, ``race.scenario_watch.<key>`` and
    ``registry.<kind>.<key>.<field>`` so it can be translated; an entry not (yet) copied
    shows the engine's text rather than a bare key."""
    return t(key) if has(key) else fallback
