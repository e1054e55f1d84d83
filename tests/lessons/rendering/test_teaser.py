"""The teaser cut: what a reader without access may see of a premium lesson."""

import pytest

from lessons.rendering.teaser import split_teaser
from tests.factories import make_lesson


def words(n, word="word"):
    return " ".join([word] * n)


def test_marker_ends_the_teaser():
    source = "Intro paragraph.\n\n<!-- more -->\n\nSecret paragraph."
    assert split_teaser(source, 150).strip() == "Intro paragraph."


@pytest.mark.parametrize("marker", ["<!-- more -->", "<!--more-->", "  <!-- MORE -->  "])
def test_marker_spelling_variants(marker):
    assert "Secret" not in split_teaser(f"Intro.\n\n{marker}\n\nSecret.", 150)


def test_a_marker_anywhere_ends_the_teaser_even_inside_a_code_block():
    """Fail closed: a marker the author meant as an example still cuts, before its block."""
    source = "Intro.\n\n```html\n<!-- more -->\n```\n\nMore text.\n\n<!-- more -->\n\nSecret."
    assert split_teaser(source, 150).strip() == "Intro."


LEAKY = {
    "CRLF line endings (browsers' textareas)": "Intro.\r\n\r\n<!-- more -->\r\n\r\nSECRET.",
    "old Mac line endings": "Intro.\r\r<!-- more -->\r\rSECRET.",
    "inline triple backticks before the marker": (
        "Intro.\n\n```x``` is inline code.\n\n<!-- more -->\n\nSECRET.\n\n```python\ncode\n```"
    ),
    "an indented fence-like line": "Intro.\n\n  ```\n\n<!-- more -->\n\nSECRET.",
    "a tilde divider": "Intro.\n\n~~~ divider ~~~\n\n<!-- more -->\n\nSECRET.",
    "marker in a block quote": "Intro.\n\n> <!-- more -->\n\nSECRET.",
    "marker with a colon": "Intro.\n\n<!-- more: -->\n\nSECRET.",
    "marker with a non-breaking space": "Intro.\n\n<!--\u00a0more\u00a0-->\n\nSECRET.",
    "marker mid-line": "Intro. <!-- more --> SECRET.\n\nSECRET again.",
    "an unclosed fence before the marker": "Intro.\n\n```\nSECRET code\n\n<!-- more -->\n\nSECRET.",
}


@pytest.mark.parametrize("source", LEAKY.values(), ids=LEAKY.keys())
def test_nothing_after_the_marker_reaches_the_teaser(source):
    assert "SECRET" not in split_teaser(source, 150)


def test_an_unclosed_fence_ends_a_budget_teaser():
    source = "Intro.\n\n```\nSECRET code that never closes\n\nmore\n\nand more"
    assert split_teaser(source, 150).strip() == "Intro."


def test_scripts_without_spaces_count_each_character_as_a_word():
    chinese = "这是一个很长的段落" * 100  # 900 characters, no spaces
    source = f"Intro.\n\n{chinese}\n\n{chinese}\n\nEnd."
    assert split_teaser(source, 150).strip() == "Intro."


def test_the_teaser_is_capped_in_characters_too():
    long_words = " ".join(["supercalifragilistic" * 5] * 100)
    source = f"Intro.\n\n{long_words}\n\nEnd."
    assert split_teaser(source, 150).strip() == "Intro."


def test_marker_wins_over_the_word_budget():
    source = f"{words(400)}\n\n<!-- more -->\n\nSecret."
    assert split_teaser(source, 150).strip() == words(400)


def test_without_marker_takes_leading_blocks_up_to_the_budget():
    source = (
        f"{words(60, 'one')}\n\n{words(60, 'two')}\n\n{words(60, 'three')}\n\n{words(60, 'four')}"
    )
    teaser = split_teaser(source, 150)
    assert "one" in teaser and "two" in teaser
    assert "three" not in teaser and "four" not in teaser


def test_never_cuts_inside_a_list():
    items = "\n".join(f"- item {i} " + words(10) for i in range(20))
    source = f"Intro.\n\n{items}\n\nAfter the list."
    teaser = split_teaser(source, 50)
    assert teaser.strip() == "Intro."


def test_never_cuts_inside_a_loose_list():
    items = "\n\n".join(f"1. item {i} " + words(10) for i in range(20))
    source = f"Intro.\n\n{items}\n\nAfter."
    assert split_teaser(source, 50).strip() == "Intro."


def test_never_cuts_inside_a_table():
    rows = "\n".join(f"| {i} | {words(10)} |" for i in range(20))
    source = f"Intro.\n\n| n | text |\n|---|---|\n{rows}\n\nAfter."
    assert split_teaser(source, 50).strip() == "Intro."


def test_never_cuts_inside_a_code_block_with_blank_lines():
    code = "\n\n".join(f"line_{i} = {i}" for i in range(40))
    source = f"Intro.\n\n```python\n{code}\n```\n\nAfter."
    assert split_teaser(source, 30).strip() == "Intro."


def test_never_the_whole_body_even_when_short():
    source = "First short paragraph.\n\nSecond short paragraph."
    assert "Second" not in split_teaser(source, 150)


def test_never_ends_on_a_heading():
    source = f"Intro.\n\n## Heading\n\n{words(300)}\n\nEnd."
    assert split_teaser(source, 150).strip() == "Intro."


def test_long_first_paragraph_is_kept_within_twice_the_budget():
    source = f"{words(200)}\n\nSecond."
    assert split_teaser(source, 150).strip() == words(200)


def test_huge_first_block_gives_an_empty_teaser():
    source = f"{words(1000)}\n\nSecond."
    assert split_teaser(source, 150) == ""


@pytest.mark.django_db
def test_teaser_is_rendered_from_its_own_source():
    """Footnotes, reference links and tables of contents must not carry text past the cut."""
    lesson = make_lesson(
        access="premium",
        body=(
            "[TOC]\n\nIntro with a note[^1] and a [link][ref].\n\n<!-- more -->\n\n"
            "## SECRET HEADING\n\nSecret text.\n\n[^1]: SECRET FOOTNOTE\n\n"
            '[ref]: https://example.com/secret "SECRET TITLE"\n'
        ),
    )
    assert "SECRET" not in lesson.teaser_html
    assert "secret" not in lesson.teaser_html.lower()
    assert "SECRET HEADING" in lesson.body_html
    assert "SECRET FOOTNOTE" in lesson.body_html


@pytest.mark.django_db
def test_full_body_does_not_contain_the_marker():
    lesson = make_lesson(body="Intro.\n\n<!-- more -->\n\nRest.")
    assert "more" not in lesson.body_html
    assert "Rest." in lesson.body_html
