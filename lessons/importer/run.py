"""The import itself: every file read and checked, then the series, its sections, its lessons
and its images saved through lessons' services, in one transaction, all or nothing."""

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from lessons.importer.bodies import FolderImage
from lessons.importer.folder import SERIES_KEY_OF_FIELD, Folder, LessonFile, read_folder
from lessons.importer.problems import ImportFailed, Problem, Source
from lessons.importer.values import apply, validate
from lessons.models import INDEX_WARNING, Lesson, LessonImage, Series
from lessons.services import delete_lesson, save_lesson, save_series, step_aside


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
    """The series and its sections (lessons.importer.sections), checked, and saved when
    nothing is wrong so far; and its lessons already in the database, by slug."""
    values, source = folder.series, folder.series_source
    series = Series.objects.filter(slug=values["slug"]).first() if values.get("slug") else None
    is_new = series is None
    if is_new:
        series = Series(is_published=True)
    changed = apply(series, values)
    if changed and folder.series_read:
        exclude = {fld for fld, key in SERIES_KEY_OF_FIELD.items() if key in source.bad}
        validate(series, source, key_of=SERIES_KEY_OF_FIELD, exclude=exclude, clean=True)
    savers = [
        saver
        for section, part in folder.parts
        if (saver := section.prepare(series, part, source)) is not None
    ]
    if (changed or savers) and not problems:
        if changed:
            save_series(series)
        for saver in savers:
            saver()
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
    step_aside(Lesson.objects.filter(pk__in=moving))
    for file in lessons:
        lesson = existing.get(file.values.get("slug")) or Lesson(series=series)
        was_new = lesson.pk is None
        if not apply(lesson, file.values):
            report.unchanged.append(file.label)
            continue
        source = Source(file.name, problems)
        source.lines = file.lines
        exclude = set(file.bad) | ({"series"} if series.pk is None else set())
        validate(lesson, source, key_of={}, exclude=exclude)
        if not problems:
            indexed = save_lesson(lesson)
            (report.created if was_new else report.updated).append(file.label)
            if not indexed:
                report.warnings.append(f"{file.name}: {INDEX_WARNING}")


def _missing(existing: dict, lessons: list[LessonFile], report: Report, *, prune: bool) -> None:
    """Lessons in the database but not in the folder: reported, and deleted with `prune`."""
    in_folder = {lesson.values.get("slug") for lesson in lessons}
    for slug, lesson in existing.items():
        if slug not in in_folder:
            report.missing.append(str(lesson))
            if prune:
                delete_lesson(lesson)
                report.pruned.append(str(lesson))
