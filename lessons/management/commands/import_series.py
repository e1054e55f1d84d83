from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lessons.importer.problems import ImportFailed
from lessons.importer.run import import_series


class Command(BaseCommand):
    help = (
        "Import a series from a folder holding series.yaml and one Markdown file per lesson. "
        "Upserts by slug; all or nothing: every problem of the folder is listed, by file and "
        "line, and nothing is saved while there is one; never deletes lessons unless --prune "
        "is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument(
            "--prune",
            action="store_true",
            help="Delete the series' lessons that are not in the folder (they are listed first).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Check and report, but save nothing."
        )

    def handle(self, directory, prune, dry_run, **options):
        try:
            report = import_series(directory, prune=prune, dry_run=dry_run)
        except ImportFailed as failure:
            count, files = len(failure.problems), failure.files
            lines = "\n".join(f"  {problem}" for problem in failure.problems)
            raise CommandError(
                f"Nothing was imported from {directory}: {count} problem{'s' * (count > 1)} "
                f"in {files} file{'s' * (files > 1)}, all listed here (fix them and run it "
                f"again):\n{lines}"
            ) from None

        out = self.stdout
        out.write(f"Series {report.series!r}: {report.series_change}")
        for verb, items in (("created", report.created), ("updated", report.updated)):
            for item in items:
                out.write(f"  {verb} lesson {item}")
        for item in report.images:
            out.write(f"  stored image {item}")
        for warning in report.warnings:
            out.write(self.style.WARNING(f"  {warning}"))
        if report.unchanged:
            out.write(f"  {len(report.unchanged)} lesson(s) unchanged")
        if report.missing and not prune:
            out.write(
                f"  {len(report.missing)} lesson(s) in the database are not in the folder and "
                "were kept (--prune deletes them): " + ", ".join(report.missing)
            )
        for item in report.pruned:
            out.write(f"  deleted lesson {item} (not in the folder; --prune)")
        if dry_run:
            out.write(self.style.WARNING("Dry run: nothing was saved."))
        elif not report.changed:
            out.write(
                self.style.SUCCESS("Nothing changed: the database already matches the folder.")
            )
        else:
            out.write(self.style.SUCCESS("Import complete."))
