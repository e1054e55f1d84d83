"""Images in lessons: uploads checked with Pillow, the Markdown to paste, the pipeline's
image tags, images brought along by import_series, and media served by the app."""

import io
import textwrap

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image

from lessons import images
from lessons.models import LessonImage, Series
from lessons.rendering.pipeline import render
from tests.factories import make_lesson, make_user

pytestmark = pytest.mark.django_db
ADD = "/admin/lessons/lessonimage/add/"


def picture(kind="PNG", size=(64, 32), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (15, 110, 92)).save(out, kind, **save)
    return out.getvalue()


def with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotated 90° clockwise
    return picture("JPEG", size=(60, 20), exif=exif.tobytes())


def bomb() -> bytes:
    """A PNG of a few KB that decodes to 20,000 by 20,000 pixels."""
    return picture("PNG", size=(20_000, 20_000))


@pytest.fixture
def admin_client(client):
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def upload(client, data: bytes, name: str, **fields):
    return client.post(ADD, {"upload": SimpleUploadedFile(name, data), "alt": "", **fields})


class TestUpload:
    def test_an_image_is_stored_without_metadata_and_its_markdown_is_offered(self, admin_client):
        response = upload(admin_client, with_exif(), "holiday.jpg", alt="A green box")
        image = LessonImage.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:lessons_lessonimage_change", args=[image.pk])
        stored = Image.open(default_storage.open(image.file.name))
        assert dict(stored.getexif()) == {}
        assert (image.width, image.height) == (20, 60)  # turned upright, as the camera said
        assert image.file.name.endswith("-20x60.jpg")
        page = admin_client.get(response["Location"]).text
        assert f"![A green box](/media/{image.file.name})" in page
        assert "data-copy=" in page

    @pytest.mark.parametrize(
        ("data", "name", "message"),
        [
            (b"%PDF-1.7 not a picture", "notes.png", "is not an image this site can use"),
            (picture("BMP"), "old.bmp", "is not an image this site can use"),
            (picture("PNG", size=(400, 400))[:-300], "cut.png", "damaged or was cut short"),
            (None, "bomb.png", "far too many pixels to show in a lesson"),
        ],
        ids=["renamed non-image", "unsupported type", "truncated", "decompression bomb"],
    )
    def test_refused_files_say_why_and_nothing_is_stored(self, admin_client, data, name, message):
        response = upload(admin_client, bomb() if data is None else data, name)
        assert response.status_code == 200
        assert message in response.context["adminform"].form.errors["upload"][0]
        assert not LessonImage.objects.exists()

    def test_an_oversized_file_is_refused_before_it_is_read(self, admin_client, settings):
        settings.LESSON_IMAGE_MAX_BYTES = 1024
        response = upload(admin_client, picture(size=(300, 300)) + b"\0" * 2048, "big.png")
        assert "an image can be at most 1 MB" not in response.text  # says the real limit
        assert "an image can be at most 0" in response.text
        assert not LessonImage.objects.exists()

    def test_the_same_image_twice_is_refused_with_the_markdown_of_the_first(self, admin_client):
        upload(admin_client, picture(), "a.png", alt="Chart")
        response = upload(admin_client, picture(), "copy-of-a.png")
        assert "This image was uploaded before" in response.text
        assert LessonImage.objects.count() == 1

    def test_only_staff_with_permission_upload(self, client):
        client.force_login(make_user(is_staff=True))
        assert upload(client, picture(), "a.png").status_code == 403


@pytest.mark.parametrize(
    ("size", "ok"), [((5000, 5000), True), ((5001, 5000), False), ((10_001, 10), False)]
)
def test_pixel_limits_are_checked_from_the_header(settings, size, ok):
    """Before decoding: the limits are well under Pillow's own bomb check."""
    settings.LESSON_IMAGE_MAX_PIXELS = 25_000_000
    data = picture("PNG", size=size)
    if ok:
        assert images.clean_image(data).width == size[0]
    else:
        with pytest.raises(ValidationError):
            images.clean_image(data)


def test_an_animated_gif_keeps_its_frames_and_loses_its_comment():
    frames = [Image.new("RGB", (10, 10), colour) for colour in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], comment=b"hidden note")
    cleaned = Image.open(io.BytesIO(images.clean_image(out.getvalue()).content))
    assert cleaned.n_frames == 3
    assert "comment" not in cleaned.info


class TestPipeline:
    def test_uploaded_images_get_their_size_and_load_lazily(self):
        html = render("![A chart](/media/lessons/images/0a1b-800x450.png)")
        assert html == (
            '<p><img alt="A chart" src="/media/lessons/images/0a1b-800x450.png" width="800" '
            'height="450" loading="lazy" decoding="async"></p>'
        )

    def test_other_images_load_lazily_and_keep_no_other_attributes(self):
        html = render('<img src="https://example.com/a.png" alt="x" onerror="evil()">')
        assert 'loading="lazy"' in html
        assert "onerror" not in html

    def test_an_image_without_alt_text_is_refused_with_its_place(self):
        lesson = make_lesson(body="Look:\n\n![](/media/lessons/images/x-10x10.png)")
        with pytest.raises(ValidationError) as error:
            lesson.full_clean()
        assert "Image 1 (/media/lessons/images/x-10x10.png) has no alt text" in str(error.value)


def lesson_md(body: str) -> str:
    head = "---\ntitle: One\nslug: one\nnumber: 1\naccess: free\nstatus: published\n---\n"
    return head + textwrap.dedent(body)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "series.yaml").write_text("title: Pictures\nslug: pictures\n")
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / "chart.png").write_bytes(picture(size=(120, 80)))
    return tmp_path


def run(folder):
    out = io.StringIO()
    call_command("import_series", str(folder), stdout=out)
    return out.getvalue()


class TestImport:
    def test_images_next_to_the_markdown_are_stored_and_linked(self, folder):
        (folder / "01-one.md").write_text(
            lesson_md(
                """\
                ![The chart](images/chart.png "Fig. 1")

                <img src="images/chart.png" alt="Again">

                ```markdown
                ![Left alone](images/chart.png)
                ```
                """
            )
        )
        output = run(folder)
        image = LessonImage.objects.get()
        lesson = Series.objects.get(slug="pictures").lessons.get()
        url = f"/media/{image.file.name}"
        assert "stored image images/chart.png" in output
        assert f'![The chart]({url} "Fig. 1")' in lesson.body
        assert f'<img src="{url}" alt="Again">' in lesson.body
        assert "![Left alone](images/chart.png)" in lesson.body
        assert 'width="120" height="80" loading="lazy"' in lesson.body_html
        assert (image.alt, image.series.slug) == ("The chart", "pictures")
        assert "Nothing changed" in run(folder)
        assert LessonImage.objects.count() == 1

    @pytest.mark.parametrize(
        ("reference", "problem"),
        [
            ("images/missing.png", "image images/missing.png: no such file next to the lesson"),
            ("../outside.png", "image ../outside.png: outside the series folder"),
            ("notes.png", "image notes.png: “notes.png” is not an image"),
        ],
    )
    def test_a_bad_image_is_reported_by_file_and_nothing_is_imported(
        self, folder, reference, problem
    ):
        (folder / "notes.png").write_text("not a picture")
        (folder.parent / "outside.png").write_bytes(picture())
        (folder / "01-one.md").write_text(lesson_md(f"![x]({reference})\n"))
        with pytest.raises(CommandError) as error:
            run(folder)
        assert f"01-one.md: line 8: {problem}" in str(error.value)
        assert not Series.objects.exists()
        assert not LessonImage.objects.exists()


def test_media_are_served_with_long_caching(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "x-1x1.png").write_bytes(picture(size=(1, 1)))
    response = client.get("/media/lessons/x-1x1.png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert "immutable" in response["Cache-Control"]
    assert client.get("/media/../config/settings.py").status_code == 400
