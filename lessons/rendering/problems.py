"""What the author must fix before a text is saved: ```mermaid blocks that cannot be drawn,
and images without alt text. The admin's forms, the live preview and the importer say these,
each where it is."""

import html
from dataclasses import dataclass

from django.utils.translation import gettext

from lessons import diagrams
from lessons.rendering.pipeline import ATTRIBUTE, IMG
from lessons.rendering.source import fences, normalise_newlines


@dataclass(frozen=True)
class ImageProblem:
    number: int  # the image's place in the text, from 1
    src: str

    def __str__(self) -> str:
        return gettext(
            "Image %(number)s (%(src)s) has no alt text: describe what it shows between the "
            "brackets, as in ![A chart of the three stages](%(src)s)."
        ) % {"number": self.number, "src": self.src}


def image_problems(body_html: str) -> list[ImageProblem]:
    """Images of rendered HTML without alt text, which readers of screen readers need."""
    problems = []
    for number, match in enumerate(IMG.finditer(body_html), start=1):
        attributes = dict(ATTRIBUTE.findall(match[1]))
        if not html.unescape(attributes.get("alt", "")).strip():
            problems.append(ImageProblem(number, html.unescape(attributes.get("src", ""))))
    return problems


@dataclass(frozen=True)
class DiagramProblem:
    number: int  # the diagram's place among the text's ```mermaid blocks, from 1
    line: int  # in the text, from 1
    message: str

    def __str__(self) -> str:
        return gettext("Diagram %(number)s (line %(line)s) cannot be drawn: %(why)s.") % {
            "number": self.number,
            "line": self.line,
            "why": self.message,
        }


def diagram_problems(source: str) -> list[DiagramProblem]:
    """Every ```mermaid block of `source` that cannot be drawn, with the line to look at."""
    lines = normalise_newlines(source).split("\n")
    problems, number = [], 0
    for start, end, language in fences(lines):
        if language != "mermaid":
            continue
        number += 1
        try:
            diagrams.draw("\n".join(lines[start + 1 : end]), prefix="check")
        except diagrams.DiagramError as error:
            line = start + 1 + (error.line or 0)
            problems.append(DiagramProblem(number, line, error.message))
    return problems
