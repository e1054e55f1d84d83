"""The author's live preview: a lesson's Markdown through the real pipeline, with a mark where
its teaser ends."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from lessons.rendering.pipeline import render
from lessons.rendering.problems import diagram_problems, image_problems
from lessons.rendering.source import normalise_newlines
from lessons.rendering.teaser import teaser, teaser_warning
from lessons.rendering.text import reading_minutes


@dataclass(frozen=True)
class Preview:
    """A lesson's Markdown as the author is writing it: what `Lesson.render()` would store."""

    html: str  # the full text, with a mark where the teaser ends (premium lessons)
    reading_minutes: int
    teaser_words: int | None  # None for a free lesson, which has no teaser
    teaser_marker: bool
    warning: str
    problems: list[str]


def preview(
    source: str,
    *,
    premium: bool,
    word_budget: int,
    words_per_minute: int,
    cut_html: str,
    render: Callable[[str], str] = render,
) -> Preview:
    """Render `source` through the real pipeline for the author's live preview. For a
    premium lesson, `cut_html` (the site's own markup, not the author's) is put where the
    public teaser ends. `render` is the pipeline (lessons.models.render_markdown gives it its
    limits); it raises RenderError for text it refuses. The text is rendered once, with a
    token paragraph where the teaser ends, so a worker waits at most one time limit."""
    source = normalise_newlines(source)
    cut = teaser(source, word_budget) if premium else None
    token = f"teaser-cut-{secrets.token_hex(12)}"
    if cut is not None:
        lines = source.split("\n")
        marked = "\n".join([*lines[: cut.end_line], "", token, "", *lines[cut.end_line :]])
        rendered = render(marked)
    else:
        rendered = render(source)
    body_html = rendered.replace(f"<p>{token}</p>", "", 1)
    minutes = reading_minutes(body_html, words_per_minute)
    problems = [str(problem) for problem in diagram_problems(source)]
    problems += [str(problem) for problem in image_problems(body_html)]
    if cut is None:
        return Preview(body_html, minutes, None, False, "", problems)
    return Preview(
        rendered.replace(f"<p>{token}</p>", cut_html, 1),
        minutes,
        cut.words,
        cut.marker,
        teaser_warning(source, word_budget),
        problems,
    )
