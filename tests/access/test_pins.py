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


DM = (
    "Hi! Thank you for buying “Became an AI Engineer”.\n\nYour access PIN: 7KQ2-M9XD-4TRB\n\n"
    "To unlock the lessons:\n1. Open https://lessons.example/access/redeem/#pin=7KQ2-M9XD-4TRB\n"
    "2. Your PIN is already filled in there (if not, paste it in). Tap Unlock.\n"
    "3. Sign up or log in with your email address, and the lessons open at once."
)


@pytest.mark.parametrize(
    "pasted",
    [
        DM,
        DM.replace("\n", ""),  # a phone that drops the line breaks of what is pasted
        "PIN akses kamu: 7kq2 m9xd 4trb",
        "PIN akses kamu: 7KQ2 M9XD 4TRB. Saja akan bisa baca semua.",  # words like a PIN
        "pin:7kq2m9xd4trb!",
        "kode\u00a07KQ2\u2013M9XD\u20134TRB ya",
        "https://lessons.example/access/redeem/#pin=7KQ2-M9XD-4TRB",
    ],
    ids=["whole DM", "DM without line breaks", "spaced", "beside words", "glued", "dashes", "link"],
)
def test_the_one_pin_is_taken_out_of_anything_pasted(pasted):
    assert pins.extract(pasted) == "7KQ2M9XD4TRB"


def test_look_alikes_are_read_in_a_pasted_pin_too():
    assert pins.extract("PIN akses kamu: abcd efoi 2345") == "ABCDEF012345"


@pytest.mark.parametrize("text", ["", "Thanks, see you!", "PIN: 7KQ2-M9XD", "ZZZZ-ZZZZ-ZZZU"])
def test_text_without_a_pin_gives_none(text):
    assert pins.extract(text) is None


def test_two_different_pins_are_refused():
    with pytest.raises(pins.TwoPins):
        pins.extract("Mine: 7KQ2-M9XD-4TRB, my sister's: 8JQZ-M9XD-4TRB")
