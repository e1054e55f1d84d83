"""Import a series from a folder: `series.yaml` and one Markdown file per lesson.

A lesson file starts with YAML front matter between `---` lines:

    ---
    title: What is an AI Engineer?
    slug: what-is-an-ai-engineer      # optional: made from the title
    number: 1
    part: "Part 1: Foundations"       # optional
    summary: One sentence.            # optional
    access: free                      # free | premium (default premium)
    status: published                 # draft | published (default draft)
    published_at: 2026-11-01T09:00:00+00:00   # optional
    ---
    The Markdown body...

Lessons are matched by slug within the series. The whole run is one transaction: a single
bad file means nothing is imported. Lessons missing from the folder are kept unless `prune`.

Images a lesson references by a relative path (`![A chart](images/chart.png)` or
`<img src="images/chart.png" alt="…">`), which must lie inside the folder, are checked like an
upload (lessons.images), stored once in the media storage, and the reference is replaced by
their address there; the same file gives the same address, so a second run changes nothing.

Images a lesson references by a relative path (`![A chart](images/chart.png)` or
`<img src="images/chart.png" alt="…">`), which must lie inside the folder, are checked like an
upload (lessons.images), stored once in the media storage, and the reference is replaced by
their address there; the same file gives the same address, so a second run changes nothing.
"""

import datetime as dt
import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import slugify

from config import env
from lessons import images, markdown
from lessons.models import (
    Lesson,
    LessonImage,
    Series,
    normalise_instagram_handle,
    normalise_whatsapp_number,
    split_price_text,
)

SERIES_FILE = "series.yaml"
# series.yaml's text keys and the Series fields they fill.
SERIES_TEXT_FIELDS = {
    "title": "title",
    "slug": "slug",
    "description": "description",
    "language": "language",
    "author": "author",
    "call_to_action": "cta_message",
    "paywall_message": "paywall_message",
    "price_line": "price",
    "instagram": "instagram_handle",
    "whatsapp": "whatsapp_number",
    "sales_language": "sales_language",
    "pin_message": "pin_message",
}
SERIES_KEYS = {*SERIES_TEXT_FIELDS, "published", "position", "price", "currency"}
LESSON_KEYS = {"title", "slug", "number", "part", "summary", "access", "status", "published_at"}
# ![alt](target "title") and <img ... src="target">, outside fenced code.
_MARKDOWN_IMAGE = re.compile(r"(?P<head>!\[(?P<alt>[^\]\n]*)\]\(\s*)(?P<target><[^>\n]+>|[^)\s]+)")
_HTML_IMAGE = re.compile(
    r"(?P<head><img\b[^>]*?\bsrc=(?P<q>[\"']))(?P<target>[^\"'>]+)(?P=q)", re.IGNORECASE
)
# Front matter and series.yaml are flat: keys with text, numbers, dates and flags. Deeper
# nesting, aliases and files far bigger than a lesson can hold are refused before they cost
# memory or time, and values are shown in messages cut short.
YAML_MAX_DEPTH = 10
FILE_SLACK_BYTES = 64 * 1024
MAX_UNKNOWN_KEYS_SHOWN = 10
_shown = reprlib.Repr(maxlevel=2, maxlist=4, maxdict=4, maxstring=60, maxother=60).repr


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (an alias bomb expands a few lines into gigabytes)
    and with a nesting limit (the composer recurses, once per level)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed", event.start_mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > YAML_MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"values nested more than {YAML_MAX_DEPTH} levels deep are not allowed",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class ImportFailed(Exception):
    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class Report:
    series: str = ""
    series_change: str = "unchanged"
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # stored by this run

    @property
    def changed(self) -> bool:
        return self.series_change != "unchanged" or bool(
            self.created or self.updated or self.pruned or self.images
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


def _load_yaml(text: str, name: str, problems: list[str]) -> dict | None:
    try:
        data = yaml.load(text, Loader=_Loader) if text.strip() else {}  # noqa: S506 (safe)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = str(getattr(exc, "problem", None) or exc)[:200]
        problems.append(f"{name}: the YAML cannot be read{where}: {problem}")
        return None
    except ValueError as exc:  # PyYAML's own date parsing, e.g. 2026-13-45
        problems.append(f"{name}: the YAML has a value that cannot be read: {str(exc)[:200]}")
        return None
    if not isinstance(data, dict):
        problems.append(f"{name}: expected keys and values, found {type(data).__name__}")
        return None
    return data


def _split_front_matter(text: str, name: str, problems: list[str]) -> tuple[dict | None, str]:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        problems.append(f"{name}: no front matter (the file must start with a line '---')")
        return None, ""
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            meta = _load_yaml("".join(lines[1:i]), name, problems)
            return meta, "".join(lines[i + 1 :]).lstrip("\n")
    problems.append(f"{name}: the front matter is not closed by a line '---'")
    return None, ""


def _as_datetime(value, name: str, problems: list[str]) -> dt.datetime | None:
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
            problems.append(f"{name}: published_at {_shown(value)} is not a date and time")
            return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _text(data: dict, key: str, name: str, problems: list[str], default: str = "") -> str:
    """A text value; numbers are taken as written, lists and mappings are refused."""
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool | list | dict):
        problems.append(f"{name}: '{key}' must be text (got {_shown(value)})")
        return default
    return str(value)


def _flag(data: dict, key: str, name: str, problems: list[str]) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    if str(value).strip().lower() in env.TRUE:
        return True
    if str(value).strip().lower() in env.FALSE - {""}:
        return False
    problems.append(f"{name}: '{key}' must be true or false (got {_shown(value)})")
    return None


def _unknown_keys(data: dict, allowed: set[str], name: str, problems: list[str]) -> None:
    unknown = sorted(_shown(key).strip("'") for key in set(data) - allowed)
    if unknown:
        more = len(unknown) - MAX_UNKNOWN_KEYS_SHOWN
        listed = ", ".join(unknown[:MAX_UNKNOWN_KEYS_SHOWN]) + (
            f" and {more} more" if more > 0 else ""
        )
        problems.append(f"{name}: unknown key(s) {listed}")


def _validation_messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{fld}: {' '.join(msgs)}" if fld != "__all__" else " ".join(msgs)
            for fld, msgs in exc.message_dict.items()
        )
    return " ".join(exc.messages)


def _apply(instance, values: dict) -> bool:
    """Set `values` on `instance`; return whether anything differs from what it had."""
    changed = instance.pk is None
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _series_values(data: dict, problems: list[str]) -> dict:
    name = SERIES_FILE
    _unknown_keys(data, SERIES_KEYS, name, problems)
    values = {
        field: _text(data, key, name, problems).strip() for key, field in SERIES_TEXT_FIELDS.items()
    }
    values["language"] = values["language"] or "en"
    values["instagram_handle"] = normalise_instagram_handle(values["instagram_handle"])
    values["whatsapp_number"] = normalise_whatsapp_number(values["whatsapp_number"])
    for key in ("title", "slug"):
        if not values[key]:
            problems.append(f"{name}: '{key}' is missing")
    _price_values(data, values, problems)
    published = _flag(data, "published", name, problems)
    if published is not None:
        values["is_published"] = published
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            problems.append(f"{name}: 'position' must be a whole number (got {_shown(position)})")
        else:
            values["position"] = position
    return values


def _price_values(data: dict, values: dict, problems: list[str]) -> None:
    """`price`: a whole number (149000), or a price written as text as it used to be
    ("Rp 149.000 · for lessons 2-7", read as lessons.models.split_price_text reads it: the
    amount, and the rest as the price line unless `price_line` is given); `currency`."""
    name, price = SERIES_FILE, data.get("price")
    values["price_amount"] = None
    if isinstance(price, int) and not isinstance(price, bool) and price >= 0:
        values["price_amount"] = price
    elif isinstance(price, str):
        amount, line = split_price_text(price.strip())
        values["price_amount"] = amount
        values["price"] = values["price"] or line
    elif price is not None:
        problems.append(
            f"{name}: 'price' must be a whole number such as 149000 (got {_shown(price)})"
        )
    values["currency"] = _text(data, "currency", name, problems).strip().upper() or "IDR"


def _lesson_values(meta: dict, body: str, name: str, problems: list[str]) -> dict | None:
    before = len(problems)
    _unknown_keys(meta, LESSON_KEYS, name, problems)
    title = _text(meta, "title", name, problems).strip()
    if not title:
        problems.append(f"{name}: 'title' is missing")
    slug = _text(meta, "slug", name, problems).strip() or slugify(title)
    if title and not slug:
        problems.append(f"{name}: 'slug' is missing, and the title gives none; add a slug")
    number = meta.get("number")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        problems.append(f"{name}: 'number' must be a whole number from 1 (got {_shown(number)})")
    access = meta.get("access", Lesson.Access.PREMIUM)
    if access not in Lesson.Access.values:
        problems.append(f"{name}: access must be free or premium (got {_shown(access)})")
    status = meta.get("status", Lesson.Status.DRAFT)
    if status not in Lesson.Status.values:
        problems.append(f"{name}: status must be draft or published (got {_shown(status)})")
    published_at = _as_datetime(meta.get("published_at"), name, problems)
    if len(problems) > before:
        return None
    values = {
        "title": title,
        "slug": slug,
        "number": number,
        "part": _text(meta, "part", name, problems),
        "summary": _text(meta, "summary", name, problems).strip(),
        "access": access,
        "status": status,
        "body": body,
    }
    if published_at is not None:
        values["published_at"] = published_at
    return values


def _read_text(path: Path, problems: list[str]) -> str | None:
    """The file's text, or None (with the problem noted) when it is too big or not UTF-8."""
    limit = settings.LESSON_BODY_MAX_BYTES + FILE_SLACK_BYTES
    size = path.stat().st_size
    if size > limit:
        problems.append(
            f"{path.name}: the file is {size // 1024} KB; a file can be at most "
            f"{limit // 1024} KB (the largest lesson and its front matter)"
        )
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(f"{path.name}: not UTF-8 text")
        return None


def _is_relative(target: str) -> bool:
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc or target.startswith(("/", "#", "?")))


def _bring_images(
    body: str, directory: Path, name: str, problems: list[str], found: dict[str, FolderImage]
) -> str:
    """`body` with each image referenced by a relative path replaced by its address in the
    media storage; the images checked into `found`, problems into `problems`."""
    root = directory.resolve()

    def replace(match: re.Match) -> str:
        written = match["target"]
        target = unquote(written.strip("<>"))
        if not _is_relative(target):
            return match[0]
        path = (directory / target).resolve()
        key = str(path)
        if key not in found:
            if not path.is_relative_to(root):
                problems.append(f"{name}: image {target}: outside the series folder")
                return match[0]
            if not path.is_file():
                problems.append(f"{name}: image {target}: no such file next to the lesson")
                return match[0]
            try:
                found[key] = FolderImage(target, images.clean_image(path.read_bytes(), name=target))
            except ValidationError as error:
                problems.append(f"{name}: image {target}: {' '.join(error.messages)}")
                return match[0]
        if not found[key].alt and match.groupdict().get("alt"):
            found[key].alt = match["alt"].strip()
        return match["head"] + found[key].url + ("" if match.re is _MARKDOWN_IMAGE else match["q"])

    lines = body.split("\n")
    code = markdown.code_lines(lines)
    for index, line in enumerate(lines):
        if index not in code and ("![" in line or "<img" in line.lower()):
            lines[index] = _HTML_IMAGE.sub(replace, _MARKDOWN_IMAGE.sub(replace, line))
    return "\n".join(lines)


@dataclass(frozen=True)
class LessonFile:
    """One lesson file, read and checked: its name and the Lesson fields it gives."""

    name: str
    values: dict

    @property
    def label(self) -> str:
        return f"{self.values['number']}. {self.values['title']}"


@dataclass(frozen=True)
class Folder:
    """A folder, read and checked: the Series fields and the lesson files."""

    series: dict
    lessons: list[LessonFile]
    images: list[FolderImage]


def read_folder(directory: Path) -> Folder:
    """Read and check the folder; raise ImportFailed listing every problem found."""
    problems: list[str] = []
    series = _read_series(directory, problems)
    found: dict[str, FolderImage] = {}
    lessons = [
        lesson
        for path in sorted(directory.glob("*.md"))
        if (lesson := _read_lesson(path, problems, found)) is not None
    ]
    _check_unique(lessons, problems)
    if problems:
        raise ImportFailed(problems)
    return Folder(series, lessons, list(found.values()))


def _read_series(directory: Path, problems: list[str]) -> dict:
    if not directory.is_dir():
        raise ImportFailed([f"{directory}: no such folder"])
    series_path = directory / SERIES_FILE
    if not series_path.is_file():
        raise ImportFailed([f"{directory}: {SERIES_FILE} is missing"])
    series_text = _read_text(series_path, problems)
    if series_text is None:
        raise ImportFailed(problems)
    data = _load_yaml(series_text, SERIES_FILE, problems)
    return _series_values(data, problems) if data is not None else {}


def _read_lesson(path: Path, problems: list[str], found: dict) -> LessonFile | None:
    text = _read_text(path, problems)
    if text is None:
        return None
    meta, body = _split_front_matter(text, path.name, problems)
    values = _lesson_values(meta, body, path.name, problems) if meta is not None else None
    if values is None:
        return None
    lines_before_body = text[: len(text) - len(body)].count("\n")
    for problem in markdown.diagram_problems(body):
        problems.append(
            f"{path.name}: line {problem.line + lines_before_body}: diagram "
            f"{problem.number} cannot be drawn: {problem.message}"
        )
    values["body"] = _bring_images(values["body"], path.parent, path.name, problems, found)
    return LessonFile(path.name, values)


def _check_unique(lessons: list[LessonFile], problems: list[str]) -> None:
    for key in ("number", "slug"):
        first: dict = {}
        for lesson in lessons:
            value = lesson.values[key]
            if value in first:
                problems.append(f"{lesson.name}: {key} {value!r} is also used by {first[value]}")
            first.setdefault(value, lesson.name)


def import_series(directory: Path, *, prune: bool = False, dry_run: bool = False) -> Report:
    """Upsert the series and its lessons by slug, all or nothing."""
    folder = read_folder(directory)
    report = Report(series=folder.series["title"])
    problems: list[str] = []
    with transaction.atomic():
        series, existing = _save_series(folder.series, report, problems)
        _store_images(folder.images, series, report, dry_run=dry_run)
        _save_lessons(series, folder.lessons, existing, report, problems)
        _missing(existing, folder.lessons, report, prune=prune)
        if problems:
            raise ImportFailed(problems)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _save_series(values: dict, report: Report, problems: list[str]):
    """The series, created or updated, and its lessons already in the database by slug."""
    series = Series.objects.filter(slug=values["slug"]).first()
    is_new = series is None
    if is_new:
        series = Series(is_published=True)
    if _apply(series, values):
        _save(series, SERIES_FILE, problems)
        report.series_change = "created" if is_new else "updated"
    if problems:
        raise ImportFailed(problems)
    return series, {} if is_new else {lesson.slug: lesson for lesson in series.lessons.all()}


def _store_images(found: list[FolderImage], series, report: Report, *, dry_run: bool) -> None:
    for image in found:
        if dry_run:
            if not LessonImage.objects.filter(sha256=image.image.sha256).exists():
                report.images.append(image.path)
            continue
        _record, created = LessonImage.objects.store(image.image, series=series, alt=image.alt)
        if created:
            report.images.append(image.path)


def _save_lessons(series, lessons: list[LessonFile], existing: dict, report: Report, problems):
    # Lessons changing number step aside first, so that two lessons can swap numbers.
    moving = [
        existing[lesson.values["slug"]].pk
        for lesson in lessons
        if lesson.values["slug"] in existing
        and existing[lesson.values["slug"]].number != lesson.values["number"]
    ]
    Lesson.objects.filter(pk__in=moving).step_aside()
    for file in lessons:
        lesson = existing.get(file.values["slug"]) or Lesson(series=series)
        was_new = lesson.pk is None
        if not _apply(lesson, file.values):
            report.unchanged.append(file.label)
        elif _save(lesson, file.name, problems):
            (report.created if was_new else report.updated).append(file.label)


def _missing(existing: dict, lessons: list[LessonFile], report: Report, *, prune: bool) -> None:
    """Lessons in the database but not in the folder: reported, and deleted with `prune`."""
    in_folder = {lesson.values["slug"] for lesson in lessons}
    for slug, lesson in existing.items():
        if slug not in in_folder:
            report.missing.append(str(lesson))
            if prune:
                lesson.delete()
                report.pruned.append(str(lesson))


def _save(instance, name: str, problems: list[str]) -> bool:
    try:
        instance.full_clean()
    except ValidationError as exc:
        problems.append(f"{name}: {_validation_messages(exc)}")
        return False
    instance.save()
    return True
