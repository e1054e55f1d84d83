"""A lesson's body as the folder gives it: its images brought into the media storage, and
what a save would refuse of it (diagrams that cannot be drawn, images without alt text),
each on its line."""

import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ValidationError

from lessons import images
from lessons.importer.problems import Source
from lessons.rendering.bounded import render_short_markdown
from lessons.rendering.limits import RenderError
from lessons.rendering.problems import diagram_problems, image_problems
from lessons.rendering.source import code_lines

# ![alt](target "title") and <img ... src="target">, outside fenced code.
_MARKDOWN_IMAGE = re.compile(r"(?P<head>!\[(?P<alt>[^\]\n]*)\]\(\s*)(?P<target><[^>\n]+>|[^)\s]+)")
_HTML_IMAGE = re.compile(
    r"(?P<head><img\b[^>]*?\bsrc=(?P<q>[\"']))(?P<target>[^\"'>]+)(?P=q)", re.IGNORECASE
)


@dataclass
class FolderImage:
    """An image file of the folder, checked, with the alt text it was first given."""

    path: str
    image: images.CleanImage
    alt: str = ""

    @property
    def url(self) -> str:
        return images.url_for(self.image.name)


def _is_relative(target: str) -> bool:
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc or target.startswith(("/", "#", "?")))


def bring_images(
    body: str, directory: Path, source: Source, body_line: int, found: dict[str, FolderImage]
) -> tuple[str, list[tuple[int, str, str]]]:
    """`body` with each image referenced by a relative path replaced by its address in the
    media storage, and every image reference as (line, address in the body, as written); the
    images checked into `found`, problems into `source`."""
    root = directory.resolve()
    references: list[tuple[int, str, str]] = []
    line_number = body_line

    def replace(match: re.Match) -> str:
        target = unquote(match["target"].strip("<>"))
        references.append((line_number, target, target))
        if not _is_relative(target):
            return match[0]
        path = (directory / target).resolve()
        key = str(path)
        if key not in found:
            if not path.is_relative_to(root):
                source.problem(f"image {target}: outside the series folder", line=line_number)
                return match[0]
            if not path.is_file():
                source.problem(f"image {target}: no such file next to the lesson", line=line_number)
                return match[0]
            try:
                found[key] = FolderImage(target, images.clean_image(path.read_bytes(), name=target))
            except ValidationError as error:
                source.problem(f"image {target}: {' '.join(error.messages)}", line=line_number)
                return match[0]
        if not found[key].alt and match.groupdict().get("alt"):
            found[key].alt = match["alt"].strip()
        references[-1] = (line_number, found[key].url, target)
        return match["head"] + found[key].url + ("" if match.re is _MARKDOWN_IMAGE else match["q"])

    lines = body.split("\n")
    code = code_lines(lines)
    for index, line in enumerate(lines):
        if index not in code and ("![" in line or "<img" in line.lower()):
            line_number = body_line + index
            lines[index] = _HTML_IMAGE.sub(replace, _MARKDOWN_IMAGE.sub(replace, line))
    return "\n".join(lines), references


def check_body(body: str, source: Source, body_line: int, references: list) -> None:
    """What `Lesson.clean()` checks of a body, each on its line: ```mermaid blocks that
    cannot be drawn, and images without alt text."""
    for problem in diagram_problems(body):
        source.problem(
            f"diagram {problem.number} cannot be drawn: {problem.message}",
            line=body_line + problem.line - 1,
        )
    if "![" not in body and "<img" not in body.lower():
        return
    try:
        rendered = render_short_markdown(body)
    except RenderError:
        return  # the body's own check says why it cannot be rendered
    unused = list(references)
    for problem in image_problems(rendered):
        # The problem's image is the nth of the body, or else the first with its address.
        src = html.unescape(problem.src)
        nth = references[problem.number - 1] if problem.number <= len(references) else None
        here = nth if nth in unused and nth[1] == src else None
        here = here or next((ref for ref in unused if ref[1] == src), None)
        if here:
            unused.remove(here)
        written = here[2] if here else src
        source.problem(
            f"image {written} has no alt text: describe what it shows between the brackets, "
            f"as in ![A chart of the three stages]({written})",
            line=here[0] if here else body_line,
        )
