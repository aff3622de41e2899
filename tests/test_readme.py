"""The README's promises: its Python example runs as printed, and CI runs its test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_api_example_runs_as_printed():
    block = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    scope: dict = {}
    exec(compile(block, "README.md", "exec"), scope)  # our own README, not user input
    result = scope["result"]
    assert result.path.shape == (501, 3, 2)
    assert not result.diverged.any()


def test_ci_runs_the_readme_test_command():
    command = re.search(r"<!-- test-command -->\n```bash\n(.*?)\n```", README, re.S).group(1)
    assert "pytest" in command
    assert "README.md" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_full_test_command_is_unchanged_and_a_quick_one_sits_beside_it():
    command = re.search(r"<!-- test-command -->\n```bash\n(.*?)\n```", README, re.S).group(1)
    assert command == 'python -m pip install -e ".[test]" && python -m pytest'
    assert 'python -m pytest -m "not e2e"' in README


def test_readme_is_self_contained():
    """It points to the project's own docs (which exist), not to files outside the repo."""
    links = re.findall(r"\]\(([^)]+)\)", README)
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert "docs/architecture.md" in local and "docs/notes.md" in local
    for link in local:
        assert (ROOT / link).exists(), link
    assert "shared/" not in README and "DESIGN.md" not in README
