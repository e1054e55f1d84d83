"""The site's time zone (TIME_ZONE) named beside the times staff read and type: a seller in
Jakarta sets TIME_ZONE=Asia/Jakarta and reads "09:00 WIB"; a site left in UTC says so."""

from django.utils import timezone
from django.utils.translation import gettext


def abbreviation(moment=None) -> str:
    """The zone's short name at `moment` (default now): "WIB", "UTC"."""
    return timezone.localtime(moment).tzname() or timezone.get_current_timezone_name()


def name() -> str:
    """The zone as staff should read it: "WIB (Asia/Jakarta)", or "UTC"."""
    full, short = timezone.get_current_timezone_name(), abbreviation()
    return short if short == full else f"{short} ({full})"


def with_zone(help_text) -> str:
    """A date-and-time field's help text, saying which zone its times are in."""
    said = gettext("Times are in %(zone)s.") % {"zone": name()}
    return f"{help_text} {said}".strip()
