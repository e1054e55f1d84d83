from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from access import services
from access.forms import IssuePinsForm, lessons_by_number, parse_lesson_numbers
from lessons.models import Series


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError
    return number


class Command(BaseCommand):
    help = "Issue access PINs for a series and print them (they are not stored in clear)."

    def add_arguments(self, parser):
        parser.add_argument("--series", required=True, help="The series' slug.")
        parser.add_argument("--lessons", default="", help="Only these lesson numbers: 2,3 or 2-4.")
        parser.add_argument("--count", type=positive, default=1, help="How many PINs (default 1).")
        parser.add_argument("--uses", type=positive, default=1, help="Uses per PIN (default 1).")
        parser.add_argument("--expires-days", type=positive, help="The PINs expire after D days.")
        parser.add_argument("--access-days", type=positive, help="Access lasts D days.")
        parser.add_argument("--note", default="", help='For staff, e.g. "IG @buyer".')
        parser.add_argument("--batch", default="", help="A label for this batch.")
        parser.add_argument("--csv", action="store_true", help="Print CSV with a header row.")

    def handle(self, *args, **options):
        series = Series.objects.filter(slug=options["series"]).first()
        if series is None:
            slugs = ", ".join(Series.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No series with slug {options['series']!r} (series: {slugs}).")
        if options["count"] > IssuePinsForm.MAX_COUNT:
            raise CommandError(f"--count can be at most {IssuePinsForm.MAX_COUNT} at a time.")
        try:
            numbers = parse_lesson_numbers(options["lessons"])
            lessons = lessons_by_number(series, numbers) if numbers else []
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        expires_days = options["expires_days"]
        issued = services.issue_pins(
            series=series,
            lessons=lessons,
            count=options["count"],
            max_uses=options["uses"],
            expires_at=timezone.now() + timedelta(days=expires_days) if expires_days else None,
            access_days=options["access_days"],
            note=options["note"],
            batch=options["batch"],
        )
        if options["csv"]:
            self.stdout.write(services.pins_csv(issued), ending="")
        else:
            self.stdout.write("\n".join(item.pin for item in issued))
        self.stderr.write(
            f"Issued {len(issued)} PIN(s) for {series}. They are not stored: keep them now."
        )
