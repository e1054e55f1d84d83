"""The pictures the README shows are current: each is one `make screenshots` makes
(tests/e2e/screenshots.py), and each was made from the templates it shows as they are now.
`make screenshots` records, beside the pictures (docs/screenshots/made-from.json), a digest of
every template a picture shows; a template changed since (a picture older than its template)
fails here until the pictures are taken again. A digest, not a date: a clean clone's files all
carry the time of the checkout, and a picture taken again may come out pixel for pixel the same."""

import json
import re

import pytest

from tests.e2e.screenshots import FOLDER, MADE_FROM, SHOTS, digest
from tests.e2e.servers import ROOT

README = ROOT / "README.md"
BY_NAME = {shot.name: shot for shot in SHOTS}
SHOWN = re.findall(r"docs/screenshots/([\w-]+)\.png", README.read_text())
MADE = json.loads((FOLDER / MADE_FROM).read_text())


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
def test_no_picture_in_the_readme_is_older_than_its_templates(name):
    made_from = MADE.get(name, {})
    changed = [t for t in BY_NAME[name].templates if made_from.get(t) != digest(t)]
    assert changed == [], f"{name}.png was made before {changed} changed: run make screenshots"


def test_a_changed_template_makes_its_picture_out_of_date(tmp_path, monkeypatch):
    shot = BY_NAME[SHOWN[0]]
    assert MADE[shot.name] == {t: digest(t) for t in shot.templates}  # control: current
    template = shot.templates[0]
    edited = tmp_path / "templates" / template
    edited.parent.mkdir(parents=True)
    edited.write_text((ROOT / "templates" / template).read_text() + "<!-- one more line -->")
    monkeypatch.setattr("tests.e2e.screenshots.ROOT", tmp_path)
    assert digest(template) != MADE[shot.name][template]
