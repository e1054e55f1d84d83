"""The lock files install the same packages on any machine, from the public index alone."""

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK_FILES = ["requirements.txt", "requirements-dev.txt"]


@pytest.mark.parametrize("name", LOCK_FILES)
def test_lock_files_name_no_index_or_local_folder(name):
    """An index URL or a folder of this machine in a lock file makes every install elsewhere
    print a screen of "Location … is ignored" warnings, or fail."""
    text = (ROOT / name).read_text()
    options = [line for line in text.splitlines() if line.startswith("-")]
    assert options == []
    assert "file://" not in text
    assert "/opt/" not in text


def test_make_lock_asks_pip_compile_to_leave_them_out():
    makefile = (ROOT / "Makefile").read_text()
    assert "--no-emit-index-url" in makefile
    assert "--no-emit-find-links" in makefile


@pytest.mark.parametrize("name", LOCK_FILES)
def test_every_dependency_is_pinned_with_hashes(name):
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = pyproject["dependencies"]
    if name == "requirements-dev.txt":
        wanted = wanted + pyproject["optional-dependencies"]["dev"]
    text = (ROOT / name).read_text().lower()
    for requirement in wanted:
        package = re.match(r"[A-Za-z0-9_.-]+", requirement)[0].lower().replace("_", "-")
        pin = re.search(rf"^{re.escape(package)}==\S+ \\\n\s+--hash=sha256:", text, re.MULTILINE)
        assert pin, f"{package} is not pinned with a hash in {name}"
