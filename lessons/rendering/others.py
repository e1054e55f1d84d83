"""Other apps' texts that this pipeline renders, so that render_lessons renders them again
with the series and lessons when the pipeline changes.

An app whose model keeps HTML rendered from Markdown by lessons.rendering (access/, say)
registers it, in its AppConfig.ready(); lessons/ never imports the apps that
register. render_lessons renders each record again, compares the fields `render()` writes, and
saves the changed ones through the app's own saving service.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RenderedElsewhere:
    #: What render_lessons calls them in its report, plural.
    label: str
    #: The records, loaded as render() and str() need them (a queryset).
    records: Callable[[], object]
    #: The fields each record's render() writes.
    fields: tuple[str, ...]
    #: Saves a record just rendered (its app's service: rendered HTML saved, stores told).
    save: Callable[[object], None]


_registered: list[RenderedElsewhere] = []


def register(kind: RenderedElsewhere) -> None:
    """Add a kind of record to render_lessons (an app's AppConfig.ready() calls this once)."""
    if all(other.label != kind.label for other in _registered):
        _registered.append(kind)


def registered() -> list[RenderedElsewhere]:
    return list(_registered)
