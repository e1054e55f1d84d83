"""Highlighted code is readable: every colour in the code stylesheet reaches WCAG's 4.5:1
against the code background, in light and in dark mode."""

import re
from pathlib import Path

from lessons import pygments_css

STYLESHEET = Path(__file__).resolve().parents[2] / "static" / "css" / "pygments.css"
COLOUR = re.compile(r"(?<![\w-])color: (#[0-9A-Fa-f]{3,6})\b")


def test_the_stylesheet_is_the_one_the_generator_prints():
    light, dark = STYLESHEET.read_text().split("@media (prefers-color-scheme: dark) {")
    assert pygments_css.rules("friendly", pygments_css.LIGHT_BACKGROUND) in light
    assert pygments_css.rules("github-dark", pygments_css.DARK_BACKGROUND, "  ") in dark


def test_every_code_colour_reads_on_its_background():
    light, dark = STYLESHEET.read_text().split("@media (prefers-color-scheme: dark) {")
    for part, background in (
        (light, pygments_css.LIGHT_BACKGROUND),
        (dark, pygments_css.DARK_BACKGROUND),
    ):
        colours = COLOUR.findall(part)
        assert len(colours) > 20
        for colour in colours:
            ratio = pygments_css.contrast(pygments_css._rgb(colour), pygments_css._rgb(background))
            assert ratio >= 4.5, (colour, background, ratio)


def test_the_site_stylesheet_names_the_same_code_backgrounds():
    site = (STYLESHEET.parent / "site.css").read_text()
    assert f"--code-bg: {pygments_css.LIGHT_BACKGROUND};" in site
    assert f"--code-bg: {pygments_css.DARK_BACKGROUND};" in site
