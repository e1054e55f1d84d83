from django.core.management.base import BaseCommand, CommandError

from access import services
from access.desk.forms import IssuePinsForm
from lessons.models import Series

OPTIONS = {  # command option → the admin form's field
    "series": "series",
    "lessons": "lesson_numbers",
    "count": "count",
    "uses": "max_uses",
    "expires_days": "expires_days",
    "access_days": "access_days",
    "buyer": "buyer",
    "note": "note",
    "batch": "batch",
}


class Command(BaseCommand):
    help = "Issue access PINs for a series and print them (they are not stored in clear)."

    def add_arguments(self, parser):
        parser.add_argument("--series", required=True, help="The series' slug.")
        parser.add_argument("--lessons", default="", help="Only these lesson numbers: 2,3 or 2-4.")
        parser.add_argument("--count", default="1", help="How many PINs (default 1).")
        parser.add_argument("--uses", default="1", help="Uses per PIN (default 1).")
        parser.add_argument("--expires-days", default="", help="The PINs expire after D days.")
        parser.add_argument("--access-days", default="", help="Access lasts D days.")
        parser.add_argument(
            "--buyer", default="", help="Who it is for: an Instagram handle, email or note."
        )
        parser.add_argument("--note", default="", help="For staff.")
        parser.add_argument("--batch", default="", help="A label for this batch.")
        parser.add_argument("--csv", action="store_true", help="Print CSV with a header row.")

    def handle(self, *args, **options):
        if not Series.objects.filter(slug=options["series"]).exists():
            slugs = ", ".join(Series.objects.values_list("slug", flat=True)) or "none yet"
            raise CommandError(f"No series with slug {options['series']!r} (series: {slugs}).")
        form = IssuePinsForm({field: options[option] for option, field in OPTIONS.items()})
        if not form.is_valid():
            names = {field: option for option, field in OPTIONS.items()}
            raise CommandError(
                " ".join(
                    f"--{names.get(field, field).replace('_', '-')}: {' '.join(errors)}"
                    for field, errors in form.errors.items()
                )
            )
        issued = form.issue()
        if options["csv"]:
            self.stdout.write(services.pins_csv(issued), ending="")
        else:
            self.stdout.write("\n".join(item.pin for item in issued))
        self.stderr.write(
            f"Issued {len(issued)} PIN(s) for {form.cleaned_data['series']}. "
            "They are not stored: keep them now."
        )
