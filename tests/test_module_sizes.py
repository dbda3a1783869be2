"""Modules with one idea each: no Python module of the project is over MAX_LINES lines (issue #23).

Tests and migrations (history, written once) are not counted. The project's modules are what git
tracks or would track (new files included, ignored ones such as .venv left out), as
tests/channels/test_provider_words.py reads them.
"""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 450
NOT_COUNTED = ("tests/", "campaign/migrations/")


def project_modules() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    return sorted(name for name in set(listed) if not name.startswith(NOT_COUNTED) and (ROOT / name).is_file())


def lines_of(name: str) -> int:
    return len((ROOT / name).read_text(encoding="utf-8").splitlines())


def test_the_check_sees_the_project():
    modules = project_modules()
    assert "campaign/turf.py" in modules and "api/main.py" in modules
    assert not any(name.startswith(NOT_COUNTED) for name in modules)


def test_no_module_is_over_the_limit():
    over = sorted(((lines_of(name), name) for name in project_modules()), reverse=True)
    over = [(count, name) for count, name in over if count > MAX_LINES]
    report = "\n".join(f"{name}: {count} lines" for count, name in over)
    print(report or f"no module over {MAX_LINES} lines")
    assert not over, f"{len(over)} module(s) over {MAX_LINES} lines (split each by idea):\n{report}"
