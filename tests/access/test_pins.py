"""PINs: their format, how typing is read back, and what is stored."""

import re

import pytest

from access import pins


def test_generated_pins_are_grouped_crockford_base32():
    pin = pins.generate()
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", pin)


def test_generated_pins_differ():
    assert len({pins.generate() for _ in range(1000)}) == 1000


@pytest.mark.parametrize(
    "typed",
    [
        "ABCD-EF01-2345",
        "abcd-ef01-2345",
        "abcdef012345",
        " ABCD EF01 2345 ",
        "AbCd-eF0l-2345",  # l read as 1
        "ABCD-EFOI-2345",  # O read as 0, I read as 1
        "abcd\u2013ef01\u20132345",  # en dashes from a phone keyboard
    ],
)
def test_typing_variants_normalise_to_the_same_pin(typed):
    assert pins.normalise(typed) == "ABCDEF012345"
    assert pins.digest(pins.normalise(typed)) == pins.digest("ABCDEF012345")


@pytest.mark.parametrize("typed", ["", "   ", "ABCD-EFU1-2345", "ABCD!EF01", "x" * 65, "€€€€"])
def test_impossible_input_is_not_a_pin(typed):
    assert pins.normalise(typed) is None


def test_the_hash_is_keyed(settings):
    before = pins.digest("ABCDEF012345")
    settings.PIN_HASH_KEY = "another key"
    assert pins.digest("ABCDEF012345") != before


def test_the_hint_is_the_last_four_characters():
    assert pins.hint("ABCDEF012345") == "2345"
