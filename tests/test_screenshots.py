"""The pictures the README shows are current: each is one `make screenshots` makes
(tests/e2e/screenshots.py), and none is older than a template it shows. "Older" is by the
last commit that touched each file (a clean clone's files all have the time of the checkout),
and a file with changes not yet committed counts as changed now."""

import math
import re
import shutil
import subprocess

import pytest

from tests.e2e.screenshots import FOLDER, SHOTS
from tests.e2e.servers import ROOT

README = ROOT / "README.md"
BY_NAME = {shot.name: shot for shot in SHOTS}
SHOWN = re.findall(r"docs/screenshots/([\w-]+)\.png", README.read_text())


def changed_at(path) -> float:
    """When `path` last changed in git (seconds); infinity when it has uncommitted changes."""
    relative = str(path.relative_to(ROOT))
    git = ["git", "-C", str(ROOT)]
    status = subprocess.run([*git, "status", "--porcelain", "--", relative],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    if status.strip():
        return math.inf
    last = subprocess.run([*git, "log", "-1", "--format=%ct", "--", relative],
                          capture_output=True, text=True, check=True).stdout  # fmt: skip
    return float(last) if last.strip() else math.inf


@pytest.fixture(scope="module")
def git():
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("the screenshots' age is read from git history, and this is no git clone")


def test_the_readme_shows_four_or_five_pictures_before_anything_else_is_explained():
    top = README.read_text().split("\n## ", 2)
    assert README.read_text().startswith("# Lessons")
    assert "make run" in top[0] and "make test" in top[0]
    assert 4 <= len(re.findall(r"<img src=\"docs/screenshots/", top[0])) <= 5
    assert len(SHOWN) >= 4


def test_every_picture_the_readme_shows_is_made_by_make_screenshots():
    assert [name for name in SHOWN if name not in BY_NAME] == []
    assert [name for name in SHOWN if not (FOLDER / f"{name}.png").is_file()] == []


def test_every_shot_names_templates_that_exist():
    missing = [(s.name, t) for s in SHOTS for t in s.templates
               if not (ROOT / "templates" / t).is_file()]  # fmt: skip
    assert missing == []


@pytest.mark.parametrize("name", sorted(set(SHOWN)))
def test_no_picture_in_the_readme_is_older_than_its_templates(git, name):
    picture = changed_at(FOLDER / f"{name}.png")
    newer = [t for t in BY_NAME[name].templates if changed_at(ROOT / "templates" / t) > picture]
    assert newer == [], f"{name}.png is older than {newer}: run make screenshots"
