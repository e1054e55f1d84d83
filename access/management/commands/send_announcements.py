from django.core.management.base import BaseCommand

from access import announcements


class Command(BaseCommand):
    help = (
        "Send queued new-lesson e-mails in batches, one mail-server connection a batch. Run it "
        "every few minutes (cron or a systemd timer); it stops when nothing is queued, or when "
        "a batch could not send anything (the mail server is away: the next run tries again)."
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
        total = announcements.SendReport()
        batches = 0
        while not max_batches or batches < max_batches:
            report = announcements.send_batch(size=batch_size)
            batches += 1
            total.sent += report.sent
            total.skipped += report.skipped
            total.failed += report.failed
            for error in report.errors:
                self.stderr.write(f"  {error}")
            if not report.handled:
                break
        self.stdout.write(
            f"Sent {total.sent}, skipped {total.skipped} (no longer wanted or no access), "
            f"failed {total.failed}."
        )
