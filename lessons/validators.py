"""What a series or a lesson must be to be saved, beyond its fields' types: a body within
LESSON_BODY_MAX_BYTES, Markdown that renders within the limits, with diagrams that can be
drawn and images described, and slugs that shadow no page."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from lessons.rendering import budget
from lessons.rendering.limits import RenderError

# The rendering pipeline (Markdown, Pygments) is imported where a text is rendered, not with
# the models: a web worker that only serves pages never loads it.


def validate_body_size(value: str) -> None:
    limit = settings.LESSON_BODY_MAX_BYTES
    size = len(value.encode("utf-8"))
    if size > limit:
        raise ValidationError(
            _(
                "This text is %(size)s KB; the most a lesson can hold is %(limit)s KB. "
                "Split it into two lessons."
            ),
            code="too_large",
            params={"size": size // 1024, "limit": limit // 1024},
        )


# Lesson slugs that would shadow a page of their series (/series/<slug>/feed/).
RESERVED_LESSON_SLUGS = frozenset({"feed"})


def validate_lesson_slug(value: str) -> None:
    if value in RESERVED_LESSON_SLUGS:
        raise ValidationError(
            _("“%(slug)s” is the address of the series’ feed; choose another slug."),
            code="reserved",
            params={"slug": value},
        )


def markdown_errors(**texts: str) -> dict[str, list[str]]:
    """{field: messages} for the Markdown fields with ```mermaid blocks that cannot be drawn
    or images without alt text. Nothing when the request may not render at all (another
    render of the author's is running): the field's own validator says so."""
    from lessons.rendering.bounded import render_short_markdown
    from lessons.rendering.problems import diagram_problems, image_problems

    if (bound := budget.current()) is not None and bound.refusal:
        return {}
    errors = {}
    for name, text in texts.items():
        problems = [str(problem) for problem in diagram_problems(text)]
        if "![" in text or "<img" in text.lower():
            try:
                rendered = render_short_markdown(text)
            except RenderError:
                rendered = ""  # the field's own validator says why it cannot be rendered
            problems += [str(p) for p in image_problems(rendered)]
        if problems:
            errors[name] = problems
    return errors


def validate_lesson_body(value: str) -> None:
    """The body and its teaser render within the limits (see render_text_within_limits)."""
    if len(value.encode("utf-8")) > settings.LESSON_BODY_MAX_BYTES:
        return  # validate_body_size says so, and rendering it would only waste time
    from lessons.rendering import pipeline
    from lessons.rendering.bounded import render_text_within_limits

    try:
        render_text_within_limits(pipeline.render_lesson_text, value, settings.LESSON_TEASER_WORDS)
    except RenderError as error:
        raise ValidationError(error.problems, code="cannot_render") from None


def validate_markdown(value: str) -> None:
    """A series' Markdown field renders within the limits. When the request may not render
    (see lessons.rendering.budget), the first field says why and the others stay quiet."""
    if (bound := budget.current()) is not None and bound.refusal:
        if message := bound.report_refusal():
            raise ValidationError(message, code="busy")
        return
    from lessons.rendering import pipeline
    from lessons.rendering.bounded import render_text_within_limits

    try:
        render_text_within_limits(pipeline.render_short_text, value)
    except RenderError as error:
        raise ValidationError(error.problems, code="cannot_render") from None
