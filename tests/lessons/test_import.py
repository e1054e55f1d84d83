"""`manage.py import_series DIR`: upsert by slug, all or nothing, and clear reports."""

import shutil
import textwrap
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from lessons import images
from lessons.models import Lesson, LessonImage, Series
from tests.lessons.test_images import picture

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parents[2] / "content" / "became-ai-engineer"


def lesson_file(number, slug, *, access="premium", title=None, extra="", body="Body text."):
    title = f"Lesson {number}" if title is None else title
    return textwrap.dedent(
        f"""\
        ---
        title: {title}
        slug: {slug}
        number: {number}
        access: {access}
        status: published
        published_at: 2026-01-0{number}T09:00:00+00:00
        {extra}
        ---
        {body}
        """
    )


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "series.yaml").write_text(
        "title: Test Series\nslug: test-series\ndescription: About it.\nlanguage: id\n"
        "paywall_message: Kirim DM.\ninstagram: '@someone'\n"
    )
    (tmp_path / "01-one.md").write_text(lesson_file(1, "one", access="free"))
    (tmp_path / "02-two.md").write_text(lesson_file(2, "two"))
    return tmp_path


def run(folder, *args):
    from io import StringIO

    out = StringIO()
    call_command("import_series", str(folder), *args, stdout=out)
    return out.getvalue()


def test_import_creates_the_series_and_its_lessons(folder):
    output = run(folder)
    series = Series.objects.get(slug="test-series")
    assert series.language == "id"
    assert [(x.number, x.slug, x.access) for x in series.lessons.all()] == [
        (1, "one", "free"),
        (2, "two", "premium"),
    ]
    assert "created lesson 1. Lesson 1" in output
    assert "created lesson 2. Lesson 2" in output


def test_a_second_run_changes_nothing_and_says_so(folder):
    run(folder)
    before = list(Lesson.objects.values_list("pk", "updated_at"))
    output = run(folder)
    assert "Nothing changed" in output
    assert list(Lesson.objects.values_list("pk", "updated_at")) == before


def test_changed_files_are_updated_by_slug(folder):
    run(folder)
    (folder / "02-two.md").write_text(lesson_file(2, "two", title="Renamed", body="New body."))
    output = run(folder)
    lesson = Lesson.objects.get(slug="two")
    assert lesson.title == "Renamed"
    assert lesson.body_html == "<p>New body.</p>"
    assert "updated lesson 2. Renamed" in output
    assert Lesson.objects.count() == 2


def test_lessons_missing_from_the_folder_are_kept(folder):
    run(folder)
    (folder / "02-two.md").unlink()
    output = run(folder)
    assert Lesson.objects.filter(slug="two").exists()
    assert "not in the folder and were kept" in output


def test_prune_lists_then_deletes_lessons_missing_from_the_folder(folder):
    run(folder)
    (folder / "02-two.md").unlink()
    output = run(folder, "--prune")
    assert not Lesson.objects.filter(slug="two").exists()
    assert "deleted lesson 2. Lesson 2" in output


def test_dry_run_saves_nothing(folder):
    output = run(folder, "--dry-run")
    assert "Dry run" in output
    assert not Series.objects.exists()


BAD_FILES = {  # each problem said with its line in the file
    "broken YAML": (
        "---\ntitle: [unclosed\nnumber: 3\n---\nBody",
        "line 3: the YAML cannot be read",
    ),
    "missing title": (lesson_file(3, "three", title=""), "line 2: 'title' is missing"),
    "duplicate number": (lesson_file(2, "three"), "line 4: number 2 is also used by 02-two.md"),
    "unknown access": (
        lesson_file(3, "three", access="vip"),
        "line 5: access must be free or premium",
    ),
    "bad number": (
        lesson_file(3, "three").replace("number: 3", "number: three"),
        "line 4: 'number'",
    ),
    "unknown key": (
        lesson_file(3, "three", extra="acess: free"),
        "line 8: unknown key acess (did you mean access?)",
    ),
    "no front matter": ("# Just markdown", "line 1: no front matter"),
    "unclosed front matter": ("---\ntitle: x\n", "line 1: the front matter is not closed"),
    "bad date": (
        lesson_file(3, "three").replace("2026-01-03T09:00:00+00:00", "next tuesday"),
        "line 7: published_at 'next tuesday' is not a date and time",
    ),
    "body too large": (
        lesson_file(3, "three", body="x" * (501 * 1024)),
        "body: This text is 501 KB",
    ),
}


@pytest.mark.parametrize("case", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_is_reported_by_name_and_line_and_nothing_is_imported(folder, case):
    content, problem = case
    (folder / "03-bad.md").write_text(content)
    with pytest.raises(CommandError) as exc:
        run(folder)
    message = str(exc.value)
    assert "Nothing was imported" in message
    assert f"03-bad.md: {problem}" in message
    assert not Series.objects.exists()
    assert not Lesson.objects.exists()


def test_a_failed_run_rolls_back_changes_to_existing_lessons(folder):
    run(folder)
    (folder / "01-one.md").write_text(lesson_file(1, "one", access="free", title="Changed"))
    (folder / "03-bad.md").write_text(lesson_file(3, "three", access="vip"))
    with pytest.raises(CommandError):
        run(folder)
    assert Lesson.objects.get(slug="one").title == "Lesson 1"


def test_a_number_taken_by_a_lesson_only_in_the_database_is_reported(folder):
    run(folder)
    (folder / "02-two.md").write_text(lesson_file(2, "renamed-two"))
    with pytest.raises(CommandError) as exc:
        run(folder)
    assert "02-two.md" in str(exc.value)
    assert set(Lesson.objects.values_list("slug", flat=True)) == {"one", "two"}


@pytest.mark.parametrize(
    ("series_yaml", "problem"),
    [
        ("slug: x\n", "'title' is missing"),
        ("title: [broken\n", "the YAML cannot be read"),
        ("- a list\n", "expected keys and values"),
    ],
)
def test_a_bad_series_file_is_reported(folder, series_yaml, problem):
    (folder / "series.yaml").write_text(series_yaml)
    with pytest.raises(CommandError, match=problem):
        run(folder)


def test_a_missing_folder_is_reported(tmp_path):
    with pytest.raises(CommandError, match="no such folder"):
        run(tmp_path / "nope")


def test_the_demo_series_imports_with_lesson_1_free_and_2_to_7_premium(tmp_path):
    shutil.copytree(DEMO, tmp_path / "demo")
    run(tmp_path / "demo")
    lessons = Lesson.objects.published().order_by("number")
    assert [x.number for x in lessons] == [1, 2, 3, 4, 5, 6, 7]
    assert [x.access for x in lessons] == ["free"] + ["premium"] * 6
    diagram = lessons[0].body_html.split('<figure class="diagram', 1)[1].split("</figure>")[0]
    assert 'fill="#d7f0e9"' in diagram  # the coloured node of lesson 1's flowchart
    assert ">AI engineers</text>" in diagram
    for lesson in lessons[1:]:
        assert lesson.teaser_html and len(lesson.teaser_html) < len(lesson.body_html) / 2
    assert Series.objects.get().language == "en"


MORE_BAD_FILES = {
    "impossible date": (
        lesson_file(3, "three").replace("2026-01-03T09:00:00+00:00", "2026-13-45"),
        "cannot be read",
    ),
    "impossible quoted date": (
        lesson_file(3, "three").replace("2026-01-03T09:00:00+00:00", "'2026-02-30'"),
        "is not a date and time",
    ),
    "title that is a mapping": (lesson_file(3, "three", title="{a: 1}"), "'title' must be text"),
    "title with no slug-able letters": (
        lesson_file(3, "", title="日本語のレッスン"),
        "'slug' is missing, and the title gives none",
    ),
}


@pytest.mark.parametrize("case", MORE_BAD_FILES.values(), ids=MORE_BAD_FILES.keys())
def test_more_bad_files_are_reported_not_crashed_on(folder, case):
    content, problem = case
    (folder / "03-bad.md").write_text(content)
    with pytest.raises(CommandError, match=problem):
        run(folder)
    assert not Lesson.objects.exists()


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("position: first", "'position' must be a whole number"),
        ("published: maybe", "'published' must be true or false"),
        ("title: [a, b]", "'title' must be text"),
    ],
)
def test_bad_series_values_are_reported(folder, line, problem):
    text = (folder / "series.yaml").read_text()
    key = line.split(":")[0]
    text = "\n".join(x for x in text.splitlines() if not x.startswith(f"{key}:"))
    (folder / "series.yaml").write_text(text + f"\n{line}\n")
    with pytest.raises(CommandError, match=problem):
        run(folder)


def test_a_series_yaml_that_is_not_utf8_is_reported(folder):
    (folder / "series.yaml").write_bytes("title: Caf\xe9\nslug: cafe\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not UTF-8"):
        run(folder)


def test_published_false_as_text_unpublishes(folder):
    (folder / "series.yaml").write_text(
        (folder / "series.yaml").read_text() + "published: 'false'\n"
    )
    run(folder)
    assert Series.objects.get().is_published is False


def test_a_reimport_without_published_keeps_a_series_staff_unpublished(folder):
    run(folder)
    Series.objects.update(is_published=False)
    run(folder)
    assert Series.objects.get().is_published is False


def test_two_lessons_can_swap_numbers(folder):
    run(folder)
    (folder / "01-one.md").write_text(lesson_file(2, "one", access="free"))
    (folder / "02-two.md").write_text(lesson_file(1, "two"))
    run(folder)
    assert dict(Lesson.objects.values_list("slug", "number")) == {"one": 2, "two": 1}


def alias_bomb(key: str, levels: int = 9) -> str:
    """A few hundred bytes that a YAML loader following aliases expands to 10**levels items."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + f"\n{key}: *l{levels - 1}\n"


def front_matter(yaml_text: str) -> str:
    return f"---\n{yaml_text}\n---\nBody.\n"


HOSTILE_FILES = {
    "alias bomb in title": (
        front_matter(alias_bomb("title") + "number: 3"),
        "aliases (*name) are not allowed",
    ),
    "alias bomb in number": (
        front_matter(alias_bomb("number") + "title: T"),
        "aliases (*name) are not allowed",
    ),
    "one harmless alias": (
        front_matter("title: &t Three\nsummary: *t\nnumber: 3"),
        "aliases (*name) are not allowed",
    ),
    "5,000 levels of flow nesting": (
        front_matter("title: " + "[" * 5000 + "]" * 5000 + "\nnumber: 3"),
        "nested more than 10 levels deep",
    ),
    "500 levels of block nesting": (
        front_matter("title:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 500))),
        "nested more than 10 levels deep",
    ),
    "a huge list as the title": (
        front_matter("title: [" + ", ".join(["word"] * 20_000) + "]\nnumber: 3"),
        "'title' must be text",
    ),
    "a huge text as the number": (
        front_matter("title: T\nnumber: " + "9x" * 50_000),
        "'number' must be a whole number",
    ),
    "thousands of unknown keys": (
        front_matter("title: T\nnumber: 3\n" + "\n".join(f"key{i}: 1" for i in range(5000))),
        "and 4990 more",
    ),
}


@pytest.mark.parametrize("case", HOSTILE_FILES.values(), ids=HOSTILE_FILES.keys())
def test_hostile_front_matter_gets_a_short_clear_message(folder, case):
    content, problem = case
    (folder / "03-bad.md").write_text(content)
    with pytest.raises(CommandError) as exc:
        run(folder)
    message = str(exc.value)
    assert "03-bad.md" in message
    assert problem in message
    assert len(message) < 1000
    assert not Lesson.objects.exists()


def test_an_alias_bomb_in_series_yaml_is_refused(folder):
    (folder / "series.yaml").write_text(alias_bomb("title") + "slug: s\n")
    with pytest.raises(CommandError, match=r"series\.yaml: .*aliases \(\*name\) are not allowed"):
        run(folder)


def test_a_file_far_bigger_than_a_lesson_is_refused_before_it_is_read(folder, settings):
    settings.LESSON_BODY_MAX_BYTES = 1024
    (folder / "03-big.md").write_text(lesson_file(3, "three", body="x" * 100 * 1024))
    with pytest.raises(
        CommandError, match=r"03-big\.md: the file is 100 KB; a file can be at most"
    ):
        run(folder)


def test_the_series_author_is_read_from_the_yaml_and_defaults_to_the_site(folder):
    run(folder)
    assert Series.objects.get(slug="test-series").author_name == "Lessons"
    yaml = folder / "series.yaml"
    yaml.write_text(yaml.read_text() + "author: Budi Santoso\n")
    run(folder)
    assert Series.objects.get(slug="test-series").author_name == "Budi Santoso"


def test_a_lesson_cannot_take_the_feed_s_address(folder):
    (folder / "03-feed.md").write_text(lesson_file(3, "feed"))
    with pytest.raises(CommandError, match="address of the series’ feed"):
        run(folder)


def front(number: int, slug: str, extra: str = "") -> str:
    """A lesson's front matter (lines 1 to 8, or 9 with `extra`); its body starts after."""
    lines = ["---", f"title: Lesson {number}", f"slug: {slug}", f"number: {number}"]
    lines += ["access: premium", "status: published", "published_at: 2026-01-01T09:00:00Z"]
    return "\n".join([*lines, *([extra] if extra else []), "---", ""])


def test_every_problem_of_the_folder_is_listed_in_one_run_by_file_and_line(folder):
    """Several kinds of problems in several files, those found reading a file and those a
    save would find: one run lists every one, by file and line, and saves nothing (an
    author fixing 4 problems used to be shown 26 more only on the next run)."""
    chart = picture(size=(77, 41))  # of this test alone: the media storage is shared
    (folder / "images").mkdir()
    (folder / "images" / "chart.png").write_bytes(chart)
    yaml = folder / "series.yaml"
    yaml.write_text(yaml.read_text().replace("'@someone'", "not a handle!"))
    (folder / "03-broken.md").write_text(
        "---\ntitle: Broken\nnumber: [3\n---\nIts body is checked all the same:\n\n"
        "![](images/chart.png)\n"
    )
    (folder / "04-key.md").write_text(front(4, "four", extra="acess: free") + "Body.\n")
    (folder / "05-diagram.md").write_text(
        front(5, "five") + "Text.\n\n```mermaid\nflowchart LR\n A --> B\n B -->\n```\n"
    )
    (folder / "06-alt.md").write_text(
        front(6, "six") + "Intro.\n\n![A chart](images/chart.png)\n\nAgain: ![](images/chart.png)\n"
    )
    (folder / "07-missing.md").write_text(front(7, "seven") + "![A chart](images/gone.png)\n")
    (folder / "08-feed.md").write_text(front(8, "feed") + "A slug only a save refuses.\n")
    with pytest.raises(CommandError) as failed:
        run(folder)
    listed = str(failed.value).split("\n")
    assert listed[0].endswith("8 problems in 7 files, all listed here (fix them and run it again):")
    assert listed[1:] == [
        "  series.yaml: line 6: instagram: An Instagram username has up to 30 letters, "
        + listed[1].split("has up to 30 letters, ", 1)[1],
        "  03-broken.md: line 4: the YAML cannot be read: "
        + listed[2].split("cannot be read: ", 1)[1],
        "  03-broken.md: line 7: image images/chart.png has no alt text: describe what it "
        "shows between the brackets, as in ![A chart of the three stages](images/chart.png)",
        "  04-key.md: line 8: unknown key acess (did you mean access?)",
        "  05-diagram.md: line 14: diagram 1 cannot be drawn: an arrow here points to no node",
        "  06-alt.md: line 13: image images/chart.png has no alt text: describe what it shows "
        "between the brackets, as in ![A chart of the three stages](images/chart.png)",
        "  07-missing.md: line 9: image images/gone.png: no such file next to the lesson",
        "  08-feed.md: line 3: slug: " + listed[8].split("slug: ", 1)[1],
    ]
    assert "address of the series’ feed" in listed[8]
    assert not Series.objects.exists() and not Lesson.objects.exists()
    assert not LessonImage.objects.exists()
    assert not default_storage.exists(images.clean_image(chart, name="chart.png").name)
