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

Every problem of the folder is found in one run and listed by file and line (front matter,
unknown keys, values, diagrams that cannot be drawn, images missing or without alt text, the
checks a save makes), so that an author fixes them all at once; nothing is saved while there
is one.

Images a lesson references by a relative path (`![A chart](images/chart.png)` or
`<img src="images/chart.png" alt="…">`), which must lie inside the folder, are checked like an
upload (lessons.images), stored once in the media storage, and the reference is replaced by
their address there; the same file gives the same address, so a second run changes nothing.
"""

import datetime as dt
import difflib
import html
import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
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
    render_short_markdown,
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
SERIES_KEYS = {*SERIES_TEXT_FIELDS, "published", "position", "price", "currency", "payments"}
SERIES_KEY_OF_FIELD = {
    **{fld: key for key, fld in SERIES_TEXT_FIELDS.items()},
    "is_published": "published",
    "position": "position",
    "price_amount": "price",
    "currency": "currency",
    "payments_enabled": "payments",
}
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


@dataclass(frozen=True)
class Problem:
    """One thing to fix: in which file, on which line (None: the file as a whole), what."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: line {self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ImportFailed(Exception):
    """Nothing was imported; `problems` lists every problem found, file by file (series.yaml
    first), in the order of their lines."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file != SERIES_FILE, p.file, p.line or 0))
        super().__init__("\n".join(map(str, self.problems)))

    @property
    def files(self) -> int:
        """How many files have problems."""
        return len({problem.file for problem in self.problems})


class _Source:
    """One file being checked: its name, the line of each key of its YAML, the keys found
    wrong, and where its problems go."""

    def __init__(self, name: str, problems: list[Problem]):
        self.name, self.problems = name, problems
        self.lines: dict[str, int] = {}
        self.bad: set[str] = set()

    def problem(self, message: str, *, key: str | None = None, line: int | None = None) -> None:
        if key is not None:
            self.bad.add(key)
            line = line or self.lines.get(key)
        self.problems.append(Problem(self.name, line, message))


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
    warnings: list[str] = field(default_factory=list)  # saved, with something to fix

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


def _load_yaml(text: str, source: _Source, *, first_line: int = 1) -> dict | None:
    """The YAML's keys and values (None when it cannot be read), noting the line of each key
    in `source.lines`; `first_line` is the file's line the text starts on."""
    if not text.strip():
        return {}
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = str(getattr(exc, "problem", None) or exc)[:200]
        source.problem(
            f"the YAML cannot be read: {problem}",
            line=first_line + mark.line if mark else None,
        )
        return None
    except ValueError as exc:  # PyYAML's own date parsing, e.g. 2026-13-45
        source.problem(f"the YAML has a value that cannot be read: {str(exc)[:200]}")
        return None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        source.problem(f"expected keys and values, found {type(data).__name__}")
        return None
    source.lines = {
        str(key.value): first_line + key.start_mark.line
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }
    return data


def _split_front_matter(text: str, source: _Source) -> tuple[dict | None, str | None, int]:
    """(front matter or None, body or None, the file's line the body starts on)."""
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        source.problem("no front matter (the file must start with a line '---')", line=1)
        return None, None, 0
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            meta = _load_yaml("".join(lines[1:i]), source, first_line=2)
            rest = "".join(lines[i + 1 :])
            body = rest.lstrip("\n")
            return meta, body, i + 2 + (len(rest) - len(body))
    source.problem("the front matter is not closed by a line '---'", line=1)
    return None, None, 0


def _as_datetime(value, source: _Source) -> dt.datetime | None:
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
                f"published_at {_shown(value)} is not a date and time", key="published_at"
            )
            return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def _text(data: dict, key: str, source: _Source, default: str = "") -> str:
    """A text value; numbers are taken as written, lists and mappings are refused."""
    value = data.get(key)
    if value is None:
        return default
    if isinstance(value, bool | list | dict):
        source.problem(f"'{key}' must be text (got {_shown(value)})", key=key)
        return default
    return str(value)


def _flag(data: dict, key: str, source: _Source) -> bool | None:
    value = data.get(key)
    if value is None or isinstance(value, bool):
        return value
    if str(value).strip().lower() in env.TRUE:
        return True
    if str(value).strip().lower() in env.FALSE - {""}:
        return False
    source.problem(f"'{key}' must be true or false (got {_shown(value)})", key=key)
    return None


def _unknown_keys(data: dict, allowed: set[str], source: _Source) -> None:
    """Each unknown key on its line, with the known key it was perhaps meant to be (the
    first MAX_UNKNOWN_KEYS_SHOWN of them, then how many more)."""
    unknown = sorted((key for key in data if key not in allowed), key=lambda key: (
        source.lines.get(str(key), 0), str(key)
    ))  # fmt: skip
    for key in unknown[:MAX_UNKNOWN_KEYS_SHOWN]:
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        source.problem(
            f"unknown key {_shown(key).strip(chr(39))}{hint}", line=source.lines.get(str(key))
        )
    if len(unknown) > MAX_UNKNOWN_KEYS_SHOWN:
        source.problem(
            f"and {len(unknown) - MAX_UNKNOWN_KEYS_SHOWN} more unknown keys",
            line=source.lines.get(str(unknown[MAX_UNKNOWN_KEYS_SHOWN])),
        )


def _validate(instance, source: _Source, *, key_of: dict, exclude: set[str], clean=False) -> None:
    """Check `instance` as `full_clean()` does (its fields, uniqueness and constraints, and
    `clean()` when `clean`), each problem on the line of its key. Fields in `exclude` were
    found wrong already; key_of: {field: key} where they differ."""
    checks = [
        lambda: instance.clean_fields(exclude=exclude),
        lambda: instance.validate_unique(exclude=exclude),
        lambda: instance.validate_constraints(exclude=exclude),
    ]
    if clean:
        checks.append(instance.clean)
    errors: dict[str, list[ValidationError]] = {}
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            for name, found in exc.update_error_dict({}).items():
                if name not in exclude:
                    errors.setdefault(name, []).extend(found)
    for name, found in errors.items():
        for error in found:
            fields = [name]
            if name == NON_FIELD_ERRORS and error.params and error.params.get("unique_check"):
                fields = [f for f in error.params["unique_check"] if f != "series"] or fields
            key = key_of.get(fields[0], fields[0])
            line = source.lines.get(key)  # none for the body: its messages name its own lines
            label = "" if fields[0] == NON_FIELD_ERRORS else f"{key}: "
            for message in error.messages:
                source.problem(f"{label}{message}", line=line)


def _apply(instance, values: dict) -> bool:
    """Set `values` on `instance`; return whether anything differs from what it had."""
    changed = instance.pk is None
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed


def _series_values(data: dict, source: _Source) -> dict:
    """The Series fields series.yaml gives, those found wrong left out (in `source.bad`)."""
    _unknown_keys(data, SERIES_KEYS, source)
    values = {}
    for key, fld in SERIES_TEXT_FIELDS.items():
        text = _text(data, key, source).strip()
        if key not in source.bad:
            values[fld] = text
    values["language"] = values.get("language") or "en"
    for fld, normalise in (
        ("instagram_handle", normalise_instagram_handle),
        ("whatsapp_number", normalise_whatsapp_number),
    ):
        if fld in values:
            values[fld] = normalise(values[fld])
    for key in ("title", "slug"):
        if key not in source.bad and not values.get(key):
            source.problem(f"'{key}' is missing", key=key)
            values.pop(key, None)
    _price_values(data, values, source)
    published = _flag(data, "published", source)
    if published is not None:
        values["is_published"] = published
    payments = _flag(data, "payments", source)
    if payments is not None:
        values["payments_enabled"] = payments
    if "position" in data:
        position = data["position"]
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            source.problem(
                f"'position' must be a whole number (got {_shown(position)})", key="position"
            )
        else:
            values["position"] = position
    return values


def _price_values(data: dict, values: dict, source: _Source) -> None:
    """`price`: a whole number (149000), or a price written as text as it used to be
    ("Rp 149.000 · for lessons 2-7", read as lessons.models.split_price_text reads it: the
    amount, and the rest as the price line unless `price_line` is given); `currency`."""
    price = data.get("price")
    values["price_amount"] = None
    if isinstance(price, int) and not isinstance(price, bool) and price >= 0:
        values["price_amount"] = price
    elif isinstance(price, str):
        amount, line = split_price_text(price.strip())
        values["price_amount"] = amount
        if "price_line" not in source.bad:
            values["price"] = values.get("price") or line
    elif price is not None:
        source.problem(
            f"'price' must be a whole number such as 149000 (got {_shown(price)})", key="price"
        )
    currency = _text(data, "currency", source).strip().upper()
    if "currency" not in source.bad:
        values["currency"] = currency or "IDR"


def _lesson_values(meta: dict, body: str, source: _Source) -> dict:
    """The Lesson fields the front matter gives, those found wrong left out (their keys in
    `source.bad`)."""
    _unknown_keys(meta, LESSON_KEYS, source)
    values = {"body": body}
    title = _text(meta, "title", source).strip()
    if title:
        values["title"] = title
    elif "title" not in source.bad:
        source.problem("'title' is missing", key="title")
    slug = _text(meta, "slug", source).strip() or slugify(title)
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
            f"'number' must be a whole number from 1 (got {_shown(number)})", key="number"
        )
    else:
        values["number"] = number
    access = meta.get("access", Lesson.Access.PREMIUM)
    if access in Lesson.Access.values:
        values["access"] = access
    else:
        source.problem(f"access must be free or premium (got {_shown(access)})", key="access")
    status = meta.get("status", Lesson.Status.DRAFT)
    if status in Lesson.Status.values:
        values["status"] = status
    else:
        source.problem(f"status must be draft or published (got {_shown(status)})", key="status")
    published_at = _as_datetime(meta.get("published_at"), source)
    if published_at is not None:
        values["published_at"] = published_at
    for key, strip in (("part", False), ("summary", True)):
        text = _text(meta, key, source)
        if key not in source.bad:
            values[key] = text.strip() if strip else text
    return values


def _read_text(path: Path, source: _Source) -> str | None:
    """The file's text, or None (with the problem noted) when it is too big or not UTF-8."""
    limit = settings.LESSON_BODY_MAX_BYTES + FILE_SLACK_BYTES
    size = path.stat().st_size
    if size > limit:
        source.problem(
            f"the file is {size // 1024} KB; a file can be at most "
            f"{limit // 1024} KB (the largest lesson and its front matter)"
        )
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        source.problem("not UTF-8 text")
        return None


def _is_relative(target: str) -> bool:
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc or target.startswith(("/", "#", "?")))


def _bring_images(
    body: str, directory: Path, source: _Source, body_line: int, found: dict[str, FolderImage]
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
    code = markdown.code_lines(lines)
    for index, line in enumerate(lines):
        if index not in code and ("![" in line or "<img" in line.lower()):
            line_number = body_line + index
            lines[index] = _HTML_IMAGE.sub(replace, _MARKDOWN_IMAGE.sub(replace, line))
    return "\n".join(lines), references


def _check_body(body: str, source: _Source, body_line: int, references: list) -> None:
    """What `Lesson.clean()` checks of a body, each on its line: ```mermaid blocks that
    cannot be drawn, and images without alt text."""
    for problem in markdown.diagram_problems(body):
        source.problem(
            f"diagram {problem.number} cannot be drawn: {problem.message}",
            line=body_line + problem.line - 1,
        )
    if "![" not in body and "<img" not in body.lower():
        return
    try:
        rendered = render_short_markdown(body)
    except markdown.RenderError:
        return  # the body's own check says why it cannot be rendered
    unused = list(references)
    for problem in markdown.image_problems(rendered):
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
    """A folder, read and checked: the Series fields, the lesson files, the images, and every
    problem found so far."""

    series: dict
    series_read: bool  # series.yaml could be read
    series_source: _Source
    lessons: list[LessonFile]
    images: list[FolderImage]
    problems: list[Problem]


def read_folder(directory: Path) -> Folder:
    """Read and check every file of the folder, noting every problem (raises ImportFailed
    only when there is no folder)."""
    if not directory.is_dir():
        raise ImportFailed([Problem(str(directory), None, "no such folder")])
    problems: list[Problem] = []
    series_source = _Source(SERIES_FILE, problems)
    series = _read_series(directory, series_source)
    found: dict[str, FolderImage] = {}
    lessons = [
        lesson
        for path in sorted(directory.glob("*.md"))
        if (lesson := _read_lesson(path, problems, found)) is not None
    ]
    _check_unique(lessons, problems)
    return Folder(
        series or {}, series is not None, series_source, lessons, list(found.values()), problems
    )


def _read_series(directory: Path, source: _Source) -> dict | None:
    """The Series fields series.yaml gives, or None when it cannot be read."""
    series_path = directory / SERIES_FILE
    if not series_path.is_file():
        source.problem("no such file in the folder (it gives the series' title and slug)")
        return None
    text = _read_text(series_path, source)
    data = _load_yaml(text, source) if text is not None else None
    return _series_values(data, source) if data is not None else None


def _read_lesson(path: Path, problems: list[Problem], found: dict) -> LessonFile | None:
    source = _Source(path.name, problems)
    text = _read_text(path, source)
    if text is None:
        return None
    meta, body, body_line = _split_front_matter(text, source)
    if body is None:
        return None
    if meta is None:
        source.bad.update(LESSON_KEYS)
        values = {"body": body}
    else:
        values = _lesson_values(meta, body, source)
    values["body"], references = _bring_images(body, path.parent, source, body_line, found)
    if len(body.encode("utf-8")) <= settings.LESSON_BODY_MAX_BYTES:  # else too big, said below
        _check_body(values["body"], source, body_line, references)
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


def import_series(directory: Path, *, prune: bool = False, dry_run: bool = False) -> Report:
    """Upsert the series and its lessons by slug, all or nothing: every file is checked
    first, as saving would check it, and ImportFailed lists every problem found."""
    folder = read_folder(directory)
    problems = folder.problems
    report = Report(series=folder.series.get("title", ""))
    with transaction.atomic():
        series, existing = _save_series(folder, report, problems)
        _save_lessons(series, folder.lessons, existing, report, problems)
        if problems:
            raise ImportFailed(problems)
        _store_images(folder.images, series, report, dry_run=dry_run)
        _missing(existing, folder.lessons, report, prune=prune)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _save_series(folder: Folder, report: Report, problems: list[Problem]):
    """The series, checked, and saved when nothing is wrong so far; and its lessons already
    in the database, by slug."""
    values, source = folder.series, folder.series_source
    series = Series.objects.filter(slug=values["slug"]).first() if values.get("slug") else None
    is_new = series is None
    if is_new:
        series = Series(is_published=True)
    changed = _apply(series, values)
    if changed and folder.series_read:
        exclude = {fld for fld, key in SERIES_KEY_OF_FIELD.items() if key in source.bad}
        _validate(series, source, key_of=SERIES_KEY_OF_FIELD, exclude=exclude, clean=True)
    if changed and not problems:
        series.save()
        report.series_change = "created" if is_new else "updated"
    existing = {lesson.slug: lesson for lesson in series.lessons.all()} if series.pk else {}
    return series, existing


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
    """Check each lesson as saving it would, and save it while nothing is wrong so far."""
    # Lessons changing number step aside first, so that two lessons can swap numbers.
    moving = [
        existing[file.values["slug"]].pk
        for file in lessons
        if file.values.get("slug") in existing
        and "number" in file.values
        and existing[file.values["slug"]].number != file.values["number"]
    ]
    Lesson.objects.filter(pk__in=moving).step_aside()
    for file in lessons:
        lesson = existing.get(file.values.get("slug")) or Lesson(series=series)
        was_new = lesson.pk is None
        if not _apply(lesson, file.values):
            report.unchanged.append(file.label)
            continue
        source = _Source(file.name, problems)
        source.lines = file.lines
        exclude = set(file.bad) | ({"series"} if series.pk is None else set())
        _validate(lesson, source, key_of={}, exclude=exclude)
        if not problems:
            lesson.save()
            (report.created if was_new else report.updated).append(file.label)
            if lesson.index_warning:
                report.warnings.append(f"{file.name}: {lesson.index_warning}")


def _missing(existing: dict, lessons: list[LessonFile], report: Report, *, prune: bool) -> None:
    """Lessons in the database but not in the folder: reported, and deleted with `prune`."""
    in_folder = {lesson.values.get("slug") for lesson in lessons}
    for slug, lesson in existing.items():
        if slug not in in_folder:
            report.missing.append(str(lesson))
            if prune:
                lesson.delete()
                report.pruned.append(str(lesson))
