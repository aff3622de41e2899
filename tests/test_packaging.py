"""Descent Lab installs and reads like a real package: the language files travel with a
plain (non-editable) install, and the repository names no path of a developer's machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """``pip install --no-deps --target <dir> .``: the wheel's files, not the checkout."""
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                           "--target", str(target), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"pip install failed:\n{done.stdout}\n{done.stderr}")
    return target


def test_installed_modules_find_their_texts(installed, tmp_path):
    code = ("import texts, json; texts.use('ko'); "
            "print(json.dumps([texts.__file__, texts.t('nav.race'), "
            "sorted(texts.languages())]))")
    env = {**os.environ, "PYTHONPATH": str(installed)}
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import json

    where, text, languages = json.loads(done.stdout)
    assert Path(where).resolve().is_relative_to(installed.resolve())  # not the checkout
    assert text == "옵티마이저 경주" and languages == ["en", "ko"]
    for lang in ("en", "ko"):
        assert (installed / "assets" / "i18n" / f"{lang}.toml").is_file()


# a developer's home, a workspace or another machine's absolute path (written in pieces,
# so this file does not match itself)
MACHINE_PATHS = re.compile("|".join([r"/" + "Users/", r"/" + "home/", r"/" + "work/",
                                     r"[A-Z]:\\\\" + "Users"]))


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:  # not a git checkout (an unpacked sdist): every file
        return [p for p in ROOT.rglob("*") if p.is_file() and ".git" not in p.parts]
    return [ROOT / name for name in listed.stdout.splitlines()]


def test_no_path_of_a_developers_machine_in_the_repository():
    found = []
    for path in tracked_text_files():
        if path.suffix in {".png", ".ico", ".jpg", ".npz"} or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        found += [f"{path.relative_to(ROOT)}: {m.group(0)}" for m in MACHINE_PATHS.finditer(text)]
    assert not found, found
