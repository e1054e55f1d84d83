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
"""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import slugify

from config import env
from lessons import markdown
from lessons.models import (
    Lesson,
    Series,
    normalise_instagram_handle,
    normalise_whatsapp_number,
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
    "price": "price",
    "instagram": "instagram_handle",
    "whatsapp": "whatsapp_number",
    "sales_language": "sales_language",
    "pin_message": "pin_message",
}
SERIES_KEYS = {*SERIES_TEXT_FIELDS, "published", "position"}
NUMBER_OFFSET = 1_000_000
LESSON_KEYS = {"title", "slug", "number", "part", "summary", "access", "status", "published_at"}


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

    @property
    def changed(self) -> bool:
        return self.series_change != "unchanged" or bool(
            self.created or self.updated or self.pruned
        )


def _load_yaml(text: str, name: str, problems: list[str]) -> dict | None:
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problems.append(f"{name}: the YAML cannot be read{where}: {getattr(exc, 'problem', exc)}")
        return None
    except ValueError as exc:  # PyYAML's own date parsing, e.g. 2026-13-45
        problems.append(f"{name}: the YAML has a value that cannot be read: {exc}")
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
            problems.append(f"{name}: published_at {value!r} is not a date and time")
            return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _text(data: dict, key: str, name: str, problems: list[str], default: str = "") -> str:
    """A text value; numbers are taken as written, lists and mappings are refused."""
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool | list | dict):
        problems.append(f"{name}: '{key}' must be text (got {value!r})")
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
    problems.append(f"{name}: '{key}' must be true or false (got {value!r})")
    return None


def _unknown_keys(data: dict, allowed: set[str], name: str, problems: list[str]) -> None:
    unknown = sorted(str(key) for key in set(data) - allowed)
    if unknown:
        problems.append(f"{name}: unknown key(s) {', '.join(unknown)}")


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
    published = _flag(data, "published", name, problems)
    if published is not None:
        values["is_published"] = published
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            problems.append(f"{name}: 'position' must be a whole number (got {position!r})")
        else:
            values["position"] = position
    return values


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
        problems.append(f"{name}: 'number' must be a whole number from 1 (got {number!r})")
    access = meta.get("access", Lesson.Access.PREMIUM)
    if access not in Lesson.Access.values:
        problems.append(f"{name}: access must be free or premium (got {access!r})")
    status = meta.get("status", Lesson.Status.DRAFT)
    if status not in Lesson.Status.values:
        problems.append(f"{name}: status must be draft or published (got {status!r})")
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


def read_folder(directory: Path) -> tuple[dict, list[tuple[str, dict]]]:
    """Parse the folder; raise ImportFailed listing every problem found."""
    problems: list[str] = []
    if not directory.is_dir():
        raise ImportFailed([f"{directory}: no such folder"])
    series_path = directory / SERIES_FILE
    if not series_path.is_file():
        raise ImportFailed([f"{directory}: {SERIES_FILE} is missing"])
    try:
        series_text = series_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ImportFailed([f"{SERIES_FILE}: not UTF-8 text"]) from None
    data = _load_yaml(series_text, SERIES_FILE, problems)
    series = _series_values(data, problems) if data is not None else {}

    lessons: list[tuple[str, dict]] = []
    numbers: dict[int, str] = {}
    slugs: dict[str, str] = {}
    for path in sorted(directory.glob("*.md")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            problems.append(f"{path.name}: not UTF-8 text")
            continue
        meta, body = _split_front_matter(text, path.name, problems)
        values = _lesson_values(meta, body, path.name, problems) if meta is not None else None
        if values is None:
            continue
        lines_before_body = text[: len(text) - len(body)].count("\n")
        for problem in markdown.diagram_problems(body):
            problems.append(
                f"{path.name}: line {problem.line + lines_before_body}: diagram "
                f"{problem.number} cannot be drawn: {problem.message}"
            )
        if (other := numbers.get(values["number"])) is not None:
            problems.append(f"{path.name}: number {values['number']} is also used by {other}")
        if values["slug"] in slugs:
            problems.append(
                f"{path.name}: slug {values['slug']!r} is also used by {slugs[values['slug']]}"
            )
        numbers.setdefault(values["number"], path.name)
        slugs.setdefault(values["slug"], path.name)
        lessons.append((path.name, values))
    if problems:
        raise ImportFailed(problems)
    return series, lessons


def import_series(directory: Path, *, prune: bool = False, dry_run: bool = False) -> Report:
    """Upsert the series and its lessons by slug, all or nothing."""
    series_values, lesson_values = read_folder(directory)
    report = Report(series=series_values["title"])
    problems: list[str] = []
    with transaction.atomic():
        series = Series.objects.filter(slug=series_values["slug"]).first()
        is_new = series is None
        if is_new:
            series = Series(is_published=True)
        if _apply(series, series_values):
            _save(series, SERIES_FILE, problems)
            report.series_change = "created" if is_new else "updated"
        if problems:
            raise ImportFailed(problems)

        existing = {lesson.slug: lesson for lesson in series.lessons.all()} if not is_new else {}
        # Lessons changing number step aside first, so that two lessons can swap numbers.
        moving = [
            existing[values["slug"]].pk
            for _, values in lesson_values
            if values["slug"] in existing and existing[values["slug"]].number != values["number"]
        ]
        Lesson.objects.filter(pk__in=moving).update(number=F("number") + NUMBER_OFFSET)
        for name, values in lesson_values:
            lesson = existing.get(values["slug"]) or Lesson(series=series)
            label = f"{values['number']}. {values['title']}"
            was_new = lesson.pk is None
            if not _apply(lesson, values):
                report.unchanged.append(label)
                continue
            if _save(lesson, name, problems):
                (report.created if was_new else report.updated).append(label)

        folder_slugs = {values["slug"] for _, values in lesson_values}
        for slug, lesson in existing.items():
            if slug not in folder_slugs:
                report.missing.append(str(lesson))
                if prune:
                    lesson.delete()
                    report.pruned.append(str(lesson))
        if problems:
            raise ImportFailed(problems)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _save(instance, name: str, problems: list[str]) -> bool:
    try:
        instance.full_clean()
    except ValidationError as exc:
        problems.append(f"{name}: {_validation_messages(exc)}")
        return False
    instance.save()
    return True
