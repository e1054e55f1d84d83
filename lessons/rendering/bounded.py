"""Rendering an author's text within limits: its Markdown in a child process given
LESSON_RENDER_SECONDS, or what is left of the request's budget (lessons.rendering.budget),
then its diagrams drawn, each within their own limits (lessons.diagrams). What saving and the
live preview call; the pipeline itself (lessons.rendering.pipeline) knows no time."""

import functools

from django.conf import settings
from django.utils.translation import gettext

from lessons.rendering import budget, pipeline, timelimit
from lessons.rendering.limits import RenderError


def render_text_within_limits(render, *args):
    """`render(*args)`, a text function of lessons.rendering.pipeline, in a child process given
    LESSON_RENDER_SECONDS, or what is left of the request's budget when less
    (lessons.rendering.budget; a newer live preview stops it). Raises RenderError, with a
    message for the author, when the text passes the pipeline's limits or its time, or when
    the request may not render (another render of the author's is running). The last few
    results are kept, so the save that follows validation does not render the same text
    again. Diagrams are drawn after, in this process, each within its own limits
    (lessons.diagrams)."""
    if (bound := budget.current()) is not None and bound.refusal:
        raise RenderError([bound.refusal])
    return _render_within_limits(render, *args)


@functools.lru_cache(maxsize=4)
def _render_within_limits(render, *args):
    limit = settings.LESSON_RENDER_SECONDS
    bound = budget.current()
    seconds = limit if bound is None or limit <= 0 else bound.seconds_for(limit)
    if limit > 0 and seconds <= 0.05:
        raise RenderError([_out_of_budget(bound)])
    try:
        return timelimit.call(
            render, *args, seconds=seconds, check=bound.check if bound is not None else None
        )
    except timelimit.TimeLimitExceeded:
        if seconds < limit:
            raise RenderError([_out_of_budget(bound)]) from None
        raise RenderError(
            [
                gettext(
                    "This text takes more than %(seconds)s seconds to render, so it cannot be "
                    "saved. Very long tables or lists, thousands of footnotes, headings or "
                    "short paragraphs are the usual cause: split it into two lessons, or "
                    "simplify it."
                )
                % {"seconds": f"{limit:g}"}
            ]
        ) from None
    except timelimit.ChildFailed:
        raise RenderError(
            [gettext("This text could not be rendered (it needs too much memory); simplify it.")]
        ) from None


def _out_of_budget(bound) -> str:
    return gettext(
        "The %(seconds)s seconds this request may spend rendering ran out before the text was "
        "rendered. Try again: diagrams already drawn are kept, so the next try goes further."
    ) % {"seconds": f"{bound.seconds:g}"}


def render_markdown(source: str) -> str:
    """Markdown as safe HTML: a lesson's text in the live preview, with its headings' anchors
    as a save would store them."""
    return pipeline.draw(render_text_within_limits(pipeline.render_text, source))


def render_short_markdown(source: str) -> str:
    """A short Markdown text (a series' description, another app's text about a series) as
    safe HTML."""
    return pipeline.draw(render_text_within_limits(pipeline.render_short_text, source))


def render_lesson(source: str) -> tuple[str, str]:
    """A lesson's body and its teaser as safe HTML, each from its own source."""
    body, teaser = render_text_within_limits(
        pipeline.render_lesson_text, source, settings.LESSON_TEASER_WORDS
    )
    return pipeline.draw(body), pipeline.draw(teaser)
