"""Environment files are read as systemd reads them, and the documented ones are correct."""

import re
from pathlib import Path

import pytest

from config import envfile, settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "docs" / "samples" / "env.production"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("KEY=value", {"KEY": "value"}),
        ("  KEY = value  ", {"KEY": "value"}),
        ('KEY="a value"', {"KEY": "a value"}),
        ("KEY='a value'", {"KEY": "a value"}),
        ("KEY=value # not a comment", {"KEY": "value # not a comment"}),
        ("# KEY=value", {}),
        ("; KEY=value", {}),
        ("KEY=a=b", {"KEY": "a=b"}),
        ("no equals sign", {}),
        ("", {}),
    ],
)
def test_lines_are_read_as_systemd_reads_them(line, expected):
    assert envfile.parse(line) == expected


def test_the_production_sample_has_no_comment_after_a_value():
    """systemd makes a trailing "# …" part of the value (GUNICORN_BIND once had one)."""
    for key, value in envfile.read(SAMPLE).items():
        assert not re.search(r"\s#", value), f"{key}={value}"


def test_the_production_sample_sets_only_variables_the_site_reads():
    documented = set(environment_table())
    assert set(envfile.read(SAMPLE)) <= documented


def test_fill_secrets_replaces_only_placeholders():
    filled = envfile.fill_secrets({"SECRET_KEY": "change-me-please", "DEBUG": "0"})
    assert filled["DEBUG"] == "0"
    assert len(filled["SECRET_KEY"]) >= 50 and "change-me" not in filled["SECRET_KEY"]


def environment_table() -> dict[str, str]:
    """docs/deploy.md's table of environment variables: {name: its row}."""
    text = (ROOT / "docs" / "deploy.md").read_text()
    table = text[text.index("## Environment variables") :]
    table = table[: table.index("\n## ")]
    names = {}
    for row in table.splitlines():
        if row.startswith("| `"):
            first_cell = row.split("|")[1]
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell):
                names[name] = row
    return names


def read_from_the_environment() -> set[str]:
    """Every variable the settings and the gunicorn configuration read."""
    sources = [Path(settings.__file__), ROOT / "config" / "gunicorn.py"]
    pattern = re.compile(r"""(?:env\.get(?:_[a-z_]+)?|os\.environ\.get)\(\s*"([A-Z][A-Z0-9_]+)""")
    return {name for path in sources for name in pattern.findall(path.read_text())}


def test_every_variable_is_documented_and_every_documented_one_is_read():
    read, documented = read_from_the_environment(), set(environment_table())
    assert read - documented == set(), "add them to docs/deploy.md's table"
    assert documented - read == set(), "docs/deploy.md documents variables nothing reads"
