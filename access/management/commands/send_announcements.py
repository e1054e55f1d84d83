from django.core.management.base import BaseCommand, CommandError

from access import announcements


class Command(BaseCommand):
    help = (
        "Send the new-lesson e-mails that are due now, in batches over one mail-server "
        "connection each. The worker (manage.py db_worker) does this by itself as soon as an "
        "announcement is queued; this command does it in the foreground, for a timer that picks "
        "up what a stopped worker left or by hand. It counts only the e-mails it tried, and "
        "exits with status 1 when one could not be sent (the mail server is away or refused "
        "it: it is tried again later, or was given up)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=announcements.BATCH_SIZE,
            help=f"E-mails per connection (default {announcements.BATCH_SIZE}).",
        )
        parser.add_argument(
            "--max-batches", type=int, default=0, help="Stop after this many batches (0: no limit)."
        )

    def handle(self, batch_size, max_batches, **options):
        report = announcements.send_due(size=batch_size, max_batches=max_batches)
        for error in report.errors:
            self.stderr.write(f"  {error}")
        self.stdout.write(report.summary())
        if report.next_try:
            self.stdout.write(
                f"The mail server is in trouble: the rest waits until "
                f"{report.next_try.isoformat(timespec='seconds')}."
            )
        if report.could_not_send:
            raise CommandError(
                f"{report.failed + report.retrying} of {report.tries} e-mails tried could not "
                "be sent."
            )
