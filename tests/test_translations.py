"""Every translation in assets/i18n/ matches English key for key and field for field.

For each language file other than en.toml: it parses; it has no key English lacks (a stray key
is a typo nobody would ever see); it has every English key (a missing one silently shows
English); every string has the same ``{placeholders}`` as its English string, in the same
number and with the same format spec, and formats with dummy values; a list keeps the
length and type of its English list.  The placeholder sets are read with
:class:`string.Formatter`, the same parser ``str.format`` uses in ``texts.t``.
"""

from __future__ import annotations

import string
import tomllib
from collections import Counter
from pathlib import Path

import pytest

import texts

I18N_DIR = texts.I18N_DIR
TRANSLATIONS = sorted(p for p in I18N_DIR.glob("*.toml") if p.stem != texts.DEFAULT_LANGUAGE)


def _flat(path: Path) -> dict[str, object]:
    with path.open("rb") as fh:
        return texts._flatten(tomllib.load(fh))


ENGLISH = _flat(I18N_DIR / f"{texts.DEFAULT_LANGUAGE}.toml")


def _fields(text: str) -> Counter:
    """Multiset of (field, conversion, format spec) of a str.format template."""
    return Counter((field, conversion, spec)
                   for _, field, spec, conversion in string.Formatter().parse(text)
                   if field is not None)


def _strings(value: object) -> list[str]:
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


class _Dummy:
    """A stand-in for any format argument: indexable, and formats under any numeric spec."""

    def __getitem__(self, _index):
        return self

    def __getattr__(self, _name):
        return self

    def __format__(self, spec: str) -> str:
        for sample in (1.5, 2, "x"):
            try:
                return format(sample, spec)
            except (ValueError, TypeError):
                continue
        raise ValueError(f"format spec {spec!r} fits no number or string")


def _format_with_dummies(text: str) -> str:
    names = {field.split("[")[0].split(".")[0] for field, _, _ in _fields(text)}
    return text.format(**{name: _Dummy() for name in names})


@pytest.fixture(params=TRANSLATIONS, ids=lambda p: p.name)
def translation(request) -> tuple[str, dict[str, object]]:
    path = request.param
    try:
        return path.name, _flat(path)
    except tomllib.TOMLDecodeError as err:
        pytest.fail(f"{path.name} does not parse: {err}")


def test_there_is_at_least_one_translation():
    assert TRANSLATIONS, "no language file besides en.toml in assets/i18n/"


def test_no_stray_keys(translation):
    name, strings = translation
    stray = sorted(set(strings) - set(ENGLISH))
    assert not stray, f"{name} has keys that en.toml lacks: {stray}"


def test_every_english_key_is_translated(translation):
    name, strings = translation
    missing = sorted(set(ENGLISH) - set(strings))
    assert not missing, f"{name} lacks {len(missing)} key(s) of en.toml: {missing}"


def test_language_names_itself(translation):
    name, strings = translation
    own = strings.get("meta.language_name")
    assert isinstance(own, str) and own and own != ENGLISH["meta.language_name"], name


def test_types_and_list_lengths_match(translation):
    name, strings = translation
    wrong = []
    for key, english in ENGLISH.items():
        if key not in strings:
            continue
        local = strings[key]
        if type(local) is not type(english):
            wrong.append(f"{key}: {type(local).__name__}, English {type(english).__name__}")
        elif isinstance(english, list) and len(local) != len(english):
            wrong.append(f"{key}: {len(local)} items, English {len(english)}")
    assert not wrong, f"{name}: " + "; ".join(wrong)


def test_placeholders_match_english_and_format(translation):
    name, strings = translation
    problems = []
    for key, english in ENGLISH.items():
        local = strings.get(key)
        if local is None or type(local) is not type(english):
            continue  # reported by the tests above
        pairs = zip(_strings(english), _strings(local), strict=False)  # lengths: test above
        for i, (en_text, text) in enumerate(pairs):
            where = key if isinstance(english, str) else f"{key}[{i}]"
            try:
                fields = _fields(text)
                _format_with_dummies(text)
            except (ValueError, KeyError, IndexError) as err:
                problems.append(f"{where}: does not format ({err})")
                continue
            if fields != _fields(en_text):
                problems.append(f"{where}: placeholders {sorted(fields.elements())}, "
                                f"English {sorted(_fields(en_text).elements())}")
    assert not problems, f"{name}:\n" + "\n".join(problems)


def test_english_formats_with_dummies():
    # the dummies must accept every English template, or the check above proves nothing
    for english in ENGLISH.values():
        for text in _strings(english):
            _format_with_dummies(text)


def test_the_checks_catch_a_broken_translation():
    assert _fields("step {step} of {n}") != _fields("step {n}")
    assert _fields("{w:+.3f}") != _fields("{w:.3f}")
    assert _fields("{a} {a}") != _fields("{a}")
    with pytest.raises(ValueError):
        _format_with_dummies("unclosed {brace")
