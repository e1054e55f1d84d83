"""Share images: a 1200 by 630 PNG for each lesson and series, shown when a link is pasted into a
chat or a post (og:image). Drawn with Pillow when the lesson or series is saved, from its
titles only (never from lesson text), and kept as a file in the default storage under a name
holding a hash of what it shows: a new title is a new file, the old one is deleted, and a page
always names the file that matches what it says.

A server that lacks the file (another app server, an emptied media folder) draws it when it is
first asked for; the drawing is the same everywhere, from the fonts shipped in lessons/fonts.
"""

import hashlib
import io
import posixpath
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import translation
from django.utils.translation import gettext

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

WIDTH, HEIGHT = 1200, 630
# Change when the drawing changes, so that every image is drawn again.
DRAWING = "1"
FONTS = Path(__file__).resolve().parent / "fonts"
MARGIN = 84
BACKGROUND = (14, 61, 53)
ACCENT = (95, 208, 181)
TEXT = (255, 255, 255)
MUTED = (190, 226, 216)


@dataclass(frozen=True)
class Card:
    """What a share image shows. `kind` and `pk` say whose it is."""

    kind: str  # "lesson" or "series"
    pk: int
    kicker: str  # the line above the title, such as "Lesson 2 · Became an AI Engineer"
    title: str
    footer: str  # the site's name

    @property
    def version(self) -> str:
        text = "\n".join([DRAWING, self.kicker, self.title, self.footer])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def folder(self) -> str:
        return f"share/{self.kind}-{self.pk}"

    @property
    def name(self) -> str:
        return f"{self.folder}/{self.version}.png"


def lesson_card(lesson) -> Card:
    """The card of a lesson; its words are in the lessons' language, as its title is."""
    with translation.override(lesson.series.language):
        kicker = gettext("Lesson %(number)s") % {"number": lesson.number}
    return Card(
        "lesson", lesson.pk, f"{kicker} · {lesson.series.title}", lesson.title, settings.SITE_NAME
    )


def series_card(series) -> Card:
    with translation.override(series.language):
        kicker = gettext("A series of lessons")
    return Card("series", series.pk, kicker, series.title, settings.SITE_NAME)


@cache
def _font(size: int, *, bold: bool = True) -> "FreeTypeFont":
    from PIL import ImageFont  # only drawing needs Pillow: workers serving pages never load it

    name = "DejaVuSansCondensed-Bold.ttf" if bold else "DejaVuSansCondensed.ttf"
    return ImageFont.truetype(str(FONTS / name), size)


def _wrap(text: str, font, width: int) -> list[str]:
    """Greedy word wrap; a word too long for a line is cut where it must be."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.getlength(word) > width:
            cut = max(
                i for i in range(1, len(word) + 1) if font.getlength(word[:i]) <= width or i == 1
            )
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _fit(text: str, width: int, height: int) -> tuple["FreeTypeFont", list[str], int]:
    """The largest title size (96 px down to 44) whose wrapped lines fit the box; at the
    smallest, lines beyond the box are dropped and the last one ends with an ellipsis."""
    for size in range(96, 43, -4):
        font, leading = _font(size), int(size * 1.16)
        lines = _wrap(text, font, width)
        if len(lines) * leading <= height:
            return font, lines, leading
    keep = max(1, height // leading)
    if len(lines) > keep:
        lines = lines[:keep]
        while lines[-1] and font.getlength(lines[-1] + "…") > width:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "…"
    return font, lines, leading


def _one_line(text: str, font, width: int) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def draw(card: Card) -> bytes:
    """The PNG: the kicker line, the title as large as it fits (at least 44 px, readable when
    a story or a chat shows it small), and the site's name, light on dark green."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    pen = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    pen.rectangle([0, 0, WIDTH, 14], fill=ACCENT)

    kicker_font = _font(36)
    pen.text(
        (MARGIN, 70), _one_line(card.kicker, kicker_font, inner), font=kicker_font, fill=ACCENT
    )

    top, bottom = 150, HEIGHT - 130
    font, lines, leading = _fit(card.title, inner, bottom - top)
    y = top + (bottom - top - len(lines) * leading) // 2
    for line in lines:
        pen.text((MARGIN, y), line, font=font, fill=TEXT)
        y += leading

    footer_font = _font(34, bold=False)
    pen.line([MARGIN, HEIGHT - 104, MARGIN + 96, HEIGHT - 104], fill=ACCENT, width=6)
    pen.text(
        (MARGIN, HEIGHT - 84),
        _one_line(card.footer, footer_font, inner),
        font=footer_font,
        fill=MUTED,
    )
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def is_stored(card: Card) -> bool:
    return default_storage.exists(card.name)


def ensure(card: Card) -> bool:
    """Draw and store the card's image unless it is stored already, and delete its older
    drawings. Whether it was drawn."""
    if is_stored(card):
        return False
    default_storage.save(card.name, ContentFile(draw(card)))
    _, files = default_storage.listdir(card.folder)
    for name in files:
        path = posixpath.join(card.folder, name)
        if path != card.name:
            default_storage.delete(path)
    return True


def read(card: Card) -> bytes:
    """The stored image, drawn first if this server does not have it."""
    ensure(card)
    with default_storage.open(card.name, "rb") as stored:
        return stored.read()
