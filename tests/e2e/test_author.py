"""An author's lesson from the first word to a reader's screen, in a real browser: uploaded
image, table, code and a diagram wider than any page, watched in the live preview, previewed,
scheduled (readers see nothing yet), published; a reader on a phone and on a desktop then sees
every part, the diagram drawn and visible."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from lessons.models import Lesson
from tests.e2e.people import AUTHOR, log_in, staff
from tests.e2e.test_browser import Page, browser, demo  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)
DIAGRAM = """```mermaid
flowchart LR
  A[Collect the documents] --> B[Split them into chunks] --> C[Embed every chunk]
  C --> D[Store the vectors] --> E[Embed the question] --> F[Search the nearest chunks]
  F --> G[Build the prompt] --> H[Call the model] --> I[Answer with sources]
```"""
TABLE = "| Step | Tool |\n|---|---|\n| Embed | sentence-transformers |\n| Store | pgvector |"
CODE = "```python\nchunks = [text[i : i + 500] for i in range(0, len(text), 500)]\n```"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 160), (47, 111, 222)).save(out, "PNG")
    return out.getvalue()


def split_datetime(page, moment):
    local = timezone.localtime(moment)
    page.fill("input[name=published_at_0]", local.strftime("%Y-%m-%d"))
    page.fill("input[name=published_at_1]", local.strftime("%H:%M:%S"))


# Every part of the lesson body as a reader's browser lays it out.
PARTS = """() => {
  const body = document.querySelector(".lesson__body");
  const image = body.querySelector("img");
  const figure = body.querySelector("figure.diagram");
  const svg = [...figure.querySelectorAll("svg")].find((s) => s.getBoundingClientRect().width > 0);
  const box = svg ? svg.getBoundingClientRect() : null;
  return {
    image: image && image.complete && image.naturalWidth,
    imageAlt: image && image.alt,
    table: body.querySelectorAll("table td").length,
    code: body.querySelector("pre code").textContent,
    drawn: box ? [box.width > 100, box.height > 40, getComputedStyle(svg).visibility] : null,
    nodes: svg ? svg.querySelectorAll("text").length : 0,
    pageWidth: document.documentElement.scrollWidth,
    figureScrolls: figure.scrollWidth > figure.clientWidth,
  };
}"""


def test_an_author_writes_previews_schedules_and_publishes_a_lesson_a_reader_then_sees_whole(
    demo,  # noqa: F811
    browser,  # noqa: F811
    settings,
    tmp_path,
):
    # Uploads go to a folder the server serves, as in development and `make serve`.
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    author = staff("author@example.com", [*AUTHOR, "lessons.add_lessonimage",
                                          "lessons.view_lessonimage"])  # fmt: skip
    desk = Page(browser, viewport={"width": 1280, "height": 900})
    log_in(desk.context, demo, author)
    page = desk.page
    series = Lesson.objects.get(number=1).series

    page.goto(demo + reverse("admin:lessons_lessonimage_add"))
    page.set_input_files("input[name=upload]", files=[
        {"name": "pipeline.png", "mimeType": "image/png", "buffer": png()}])  # fmt: skip
    page.fill("input[name=alt]", "The retrieval pipeline on one page")
    page.select_option("select[name=series]", str(series.pk))
    page.click("input[name=_save]")
    page.wait_for_load_state()
    image_markdown = page.locator("#image-markdown").input_value()
    assert image_markdown.startswith("![The retrieval pipeline on one page](/media/")

    page.goto(demo + reverse("admin:lessons_lesson_add"))
    page.select_option("select[name=series]", str(series.pk))
    page.fill("input[name=number]", "8")
    page.fill("input[name=title]", "Retrieval from end to end")
    page.fill("[name=summary]", "Every step of a retrieval pipeline.")
    body = "\n\n".join(["The pipeline, drawn:", image_markdown, TABLE, CODE, DIAGRAM, "The end."])
    page.fill("textarea#id_body", body)
    preview = page.frame_locator("iframe.writing__frame")
    preview.locator("figure.diagram svg").first.wait_for(timeout=15_000)
    assert preview.locator("table td", has_text="pgvector").count() == 1
    assert preview.locator("pre code", has_text="chunks = [text").count() == 1
    assert preview.locator("img[alt='The retrieval pipeline on one page']").count() == 1

    page.select_option("select[name=access]", "free")
    page.select_option("select[name=status]", "published")
    split_datetime(page, timezone.now() + timedelta(days=2))  # scheduled
    page.click("input[name=_continue]")
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0, page.locator(".errorlist").all_inner_texts()
    lesson = Lesson.objects.get(series=series, number=8)
    assert "Scheduled" in page.locator(".field-go_live").inner_text()

    reader = Page(browser, viewport={"width": 390, "height": 844})
    url = demo + lesson.get_absolute_url()
    assert reader.page.goto(url).status == 404  # not yet
    reader.errors.clear()  # the console's note of that 404

    page.click(".object-tools >> text=Preview")
    page.wait_for_load_state()
    assert page.locator("table td", has_text="pgvector").first.is_visible()
    assert page.locator("figure.diagram svg:visible").first.is_visible()
    assert page.locator("img[alt='The retrieval pipeline on one page']").first.is_visible()

    page.goto(demo + reverse("admin:lessons_lesson_change", args=[lesson.pk]))
    split_datetime(page, timezone.now() - timedelta(minutes=1))  # published now
    page.click("input[name=_continue]")
    page.wait_for_load_state()
    assert page.locator(".errornote").count() == 0

    for width in (390, 1280):
        reader.page.set_viewport_size({"width": width, "height": 900})
        assert reader.page.goto(url).status == 200
        reader.page.locator(".lesson__body img").scroll_into_view_if_needed()
        reader.page.wait_for_function("document.querySelector('.lesson__body img').complete")
        parts = reader.page.evaluate(PARTS)
        assert parts["image"] == 320, (parts, reader.errors)
        assert parts["imageAlt"] == "The retrieval pipeline on one page"
        assert parts["table"] == 4
        assert parts["code"].startswith("chunks = [text[i : i + 500]")
        assert parts["drawn"] == [True, True, "visible"], width
        assert parts["nodes"] >= 9
        assert parts["pageWidth"] <= width  # the page never scrolls sideways...
    assert parts["figureScrolls"] is False  # ...and a desktop shows the diagram whole
    assert reader.errors == [] and desk.errors == []
    reader.close()
    desk.close()
