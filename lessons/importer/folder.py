"""Reading the folder: series.yaml (lessons' keys, and the registered sections' ones) and the
lesson files, every value checked and every problem noted, before anything is saved."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import slugify

from lessons.importer import sections
from lessons.importer.bodies import FolderImage, bring_images, check_body
from lessons.importer.problems import SERIES_FILE, ImportFailed, Problem, Source, shown
from lessons.importer.values import flag_value, text_value, unknown_keys
from lessons.importer.yamlfiles import load_yaml, read_text, split_front_matter
from lessons.models import Lesson

# series.yaml's text keys and the Series fields they fill (other keys: lessons.importer.sections).
SERIES_TEXT_FIELDS = {
    "title": "title",
    "slug": "slug",
    "description": "description",
    "language": "language",
    "author": "author",
}
SERIES_KEYS = {*SERIES_TEXT_FIELDS, "published", "position"}
SERIES_KEY_OF_FIELD = {
    **{fld: key for key, fld in SERIES_TEXT_FIELDS.items()},
    "is_published": "published",
    "position": "position",
}
LESSON_KEYS = {"title", "slug", "number", "part", "summary", "access", "status", "published_at"}


def _as_datetime(value, source: Source) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        text = str(value)
        try:
            moment = parse_datetime(text)
            if moment is None and (day := parse_date(text)):
                moment = dt.datetime.combine(day, dt.time())
        except ValueError:
            moment = None
        if moment is None:
            source.problem(
                f"published_at {shown(value)} is not a date and time", key="published_at"
            )
            return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _series_values(data: dict, source: Source, keys: set[str]) -> dict:
    """The Series fields series.yaml gives, those found wrong left out (in `source.bad`);
    `keys` are all the keys it may have (lessons' own and the sections')."""
    unknown_keys(data, keys, source)
    values = {}
    for key, fld in SERIES_TEXT_FIELDS.items():
        text = text_value(data, key, source).strip()
        if key not in source.bad:
            values[fld] = text
    values["language"] = values.get("language") or "en"
    for key in ("title", "slug"):
        if key not in source.bad and not values.get(key):
            source.problem(f"'{key}' is missing", key=key)
            values.pop(key, None)
    published = flag_value(data, "published", source)
    if published is not None:
        values["is_published"] = published
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            source.problem(
                f"'position' must be a whole number (got {shown(position)})", key="position"
            )
        else:
            values["position"] = position
    return values


def _lesson_values(meta: dict, body: str, source: Source) -> dict:
    """The Lesson fields the front matter gives, those found wrong left out (their keys in
    `source.bad`)."""
    unknown_keys(meta, LESSON_KEYS, source)
    values = {"body": body}
    title = text_value(meta, "title", source).strip()
    if title:
        values["title"] = title
    elif "title" not in source.bad:
        source.problem("'title' is missing", key="title")
    slug = text_value(meta, "slug", source).strip() or slugify(title)
    if slug and "slug" not in source.bad:
        values["slug"] = slug
    elif title and "slug" not in source.bad:
        source.problem(
            "'slug' is missing, and the title gives none; add a slug",
            key="slug",
            line=source.lines.get("title"),
        )
    else:
        source.bad.add("slug")  # made from a title that is wrong, said above
    number = meta.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        source.problem(
            f"'number' must be a whole number from 1 (got {shown(number)})", key="number"
        )
    else:
        values["number"] = number
    access = meta.get("access", Lesson.Access.PREMIUM)
    if access in Lesson.Access.values:
        values["access"] = access
    else:
        source.problem(f"access must be free or premium (got {shown(access)})", key="access")
    status = meta.get("status", Lesson.Status.DRAFT)
    if status in Lesson.Status.values:
        values["status"] = status
    else:
        source.problem(f"status must be draft or published (got {shown(status)})", key="status")
    published_at = _as_datetime(meta.get("published_at"), source)
    if published_at is not None:
        values["published_at"] = published_at
    for key, strip in (("part", False), ("summary", True)):
        text = text_value(meta, key, source)
        if key not in source.bad:
            values[key] = text.strip() if strip else text
    return values


@dataclass(frozen=True)
class LessonFile:
    """One lesson file, read and checked: its name, the Lesson fields it gives (without
    those found wrong), the line of each key of its front matter, and the keys found wrong."""

    name: str
    values: dict
    lines: dict[str, int]
    bad: frozenset[str]

    @property
    def label(self) -> str:
        return f"{self.values.get('number', '?')}. {self.values.get('title', self.name)}"


@dataclass
class Folder:
    """A folder, read and checked: the Series fields, the values of series.yaml's sections
    (lessons.importer.sections), the lesson files, the images, and every problem found so
    far."""

    series: dict
    series_read: bool  # series.yaml could be read
    series_source: Source
    parts: list[tuple[sections.SeriesSection, dict]]
    lessons: list[LessonFile]
    images: list[FolderImage]
    problems: list[Problem]


def read_folder(directory: Path) -> Folder:
    """Read and check every file of the folder, noting every problem (raises ImportFailed
    only when there is no folder)."""
    if not directory.is_dir():
        raise ImportFailed([Problem(str(directory), None, "no such folder")])
    problems: list[Problem] = []
    series_source = Source(SERIES_FILE, problems)
    parts: list[tuple[sections.SeriesSection, dict]] = []
    series = _read_series(directory, series_source, parts)
    found: dict[str, FolderImage] = {}
    lessons = [
        lesson
        for path in sorted(directory.glob("*.md"))
        if (lesson := _read_lesson(path, problems, found)) is not None
    ]
    _check_unique(lessons, problems)
    return Folder(
        series or {},
        series is not None,
        series_source,
        parts,
        lessons,
        list(found.values()),
        problems,
    )


def _read_series(directory: Path, source: Source, parts: list) -> dict | None:
    """The Series fields series.yaml gives, or None when it cannot be read; each registered
    section's values added to `parts`, as (section, values)."""
    series_path = directory / SERIES_FILE
    if not series_path.is_file():
        source.problem("no such file in the folder (it gives the series' title and slug)")
        return None
    text = read_text(series_path, source)
    data = load_yaml(text, source) if text is not None else None
    if data is None:
        return None
    keys = set(SERIES_KEYS).union(*(section.keys for section in sections.registered()))
    values = _series_values(data, source, keys)
    parts += [(section, section.read(data, source)) for section in sections.registered()]
    return values


def _read_lesson(path: Path, problems: list[Problem], found: dict) -> LessonFile | None:
    source = Source(path.name, problems)
    text = read_text(path, source)
    if text is None:
        return None
    meta, body, body_line = split_front_matter(text, source)
    if body is None:
        return None
    if meta is None:
        source.bad.update(LESSON_KEYS)
        values = {"body": body}
    else:
        values = _lesson_values(meta, body, source)
    values["body"], references = bring_images(body, path.parent, source, body_line, found)
    if len(body.encode("utf-8")) <= settings.LESSON_BODY_MAX_BYTES:  # else too big, said below
        check_body(values["body"], source, body_line, references)
    return LessonFile(path.name, values, source.lines, frozenset(source.bad))


def _check_unique(lessons: list[LessonFile], problems: list[Problem]) -> None:
    for key in ("number", "slug"):
        first: dict = {}
        for lesson in lessons:
            if key not in lesson.values:
                continue
            value = lesson.values[key]
            if value in first:
                line = lesson.lines.get(key) or lesson.lines.get("title")
                problems.append(
                    Problem(lesson.name, line, f"{key} {value!r} is also used by {first[value]}")
                )
            first.setdefault(value, lesson.name)
