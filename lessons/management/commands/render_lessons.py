from django.core.management.base import BaseCommand

from lessons import services, share
from lessons.models import INDEX_WARNING, Lesson, SearchEntry, Series
from lessons.rendering import others
from lessons.rendering.problems import diagram_problems

SERIES_FIELDS = list(Series.RENDERED_FIELDS)
LESSON_FIELDS = list(Lesson.RENDERED_FIELDS)


def _changed(instance, fields, render) -> bool:
    before = [getattr(instance, name) for name in fields]
    render()
    return [getattr(instance, name) for name in fields] != before


class Command(BaseCommand):
    help = (
        "Render the stored HTML of every series and lesson again from its Markdown, for when "
        "the pipeline changes (a new diagram renderer, say), and of the other texts rendered "
        "by the pipeline (other apps' texts about a series); draw the share images that are "
        "missing; rewrite the search index. Saves, through the saving services, and lists "
        "what changed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would change; save nothing."
        )

    def handle(self, dry_run, **options):
        changed_series, cards = [], []
        series_list = list(Series.objects.order_by("position", "title"))
        for series in series_list:
            cards.append(share.series_card(series))
            if _changed(series, SERIES_FIELDS, series.render):
                changed_series.append(series.title)
                if not dry_run:
                    services.save_series(
                        series, update_fields=[*SERIES_FIELDS, "updated_at"], rendered=True
                    )
        elsewhere = [self._render_again(kind, dry_run) for kind in others.registered()]

        changed_lessons, problems, total = [], [], 0
        lessons = Lesson.objects.select_related("series").order_by("series__title", "number")
        for lesson in lessons.iterator(chunk_size=200):
            total += 1
            cards.append(share.lesson_card(lesson))
            label = f"{lesson.series.title} {lesson}"
            indexed = True
            if _changed(lesson, LESSON_FIELDS, lesson.render):
                changed_lessons.append(label)
                if not dry_run:
                    indexed = services.save_lesson(
                        lesson, update_fields=[*LESSON_FIELDS, "updated_at"], rendered=True
                    )
            elif not dry_run:
                indexed = SearchEntry.objects.write(lesson)  # from the stored HTML as it is
            if not indexed:
                problems.append(f"{label}: {INDEX_WARNING}")
            problems += [f"{label}: {problem}" for problem in diagram_problems(lesson.body)]

        missing = [card for card in cards if not share.is_stored(card)]
        if not dry_run:
            for card in missing:
                share.ensure(card)

        verb = "would change" if dry_run else "changed"
        self._report(f"{len(changed_series)} of {len(series_list)} series {verb}", changed_series)
        for label, changed, total_records in elsewhere:
            self._report(f"{len(changed)} of {total_records} {label} {verb}", changed)
        self._report(f"{len(changed_lessons)} of {total} lessons {verb}", changed_lessons)
        drawn = "would be drawn" if dry_run else "drawn"
        self.stdout.write(f"{len(missing)} of {len(cards)} share images {drawn}")
        for problem in problems:
            self.stderr.write(self.style.WARNING(problem))
        if dry_run:
            self.stdout.write(self.style.WARNING("Dry run: nothing was saved."))

    def _render_again(self, kind: others.RenderedElsewhere, dry_run: bool):
        """(label, names of the changed records, how many there are) for another app's
        records rendered by the pipeline, the changed ones saved through its service."""
        changed, records = [], list(kind.records())
        for record in records:
            if _changed(record, kind.fields, record.render):
                changed.append(str(record))
                if not dry_run:
                    kind.save(record)
        return kind.label, changed, len(records)

    def _report(self, summary, names):
        self.stdout.write(f"{summary}{': ' if names else ''}{', '.join(names)}")
