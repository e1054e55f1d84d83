"""lessons' models, one module per job: the teaching content (a series and its lessons),
uploaded images, the search index and readers' progress."""

from lessons.models.content import (
    CONTENT_LANGUAGES,
    INDEX_WARNING,
    UNPUBLISHED_LABELS,
    Lesson,
    LessonQuerySet,
    PremiumRange,
    Series,
    SeriesQuerySet,
    attached_to_series,
    premium_range_annotations,
)
from lessons.models.image import LessonImage, LessonImageQuerySet
from lessons.models.progress import Progress, ProgressQuerySet
from lessons.models.search_index import (
    INDEX_SECONDS,
    INDEXED_CHARS,
    SEARCH_CONFIGS,
    SearchEntry,
    SearchEntryQuerySet,
    TextSearchVector,
    indexable,
)

__all__ = [
    "CONTENT_LANGUAGES",
    "INDEXED_CHARS",
    "INDEX_SECONDS",
    "INDEX_WARNING",
    "SEARCH_CONFIGS",
    "UNPUBLISHED_LABELS",
    "Lesson",
    "LessonImage",
    "LessonImageQuerySet",
    "LessonQuerySet",
    "PremiumRange",
    "Progress",
    "ProgressQuerySet",
    "SearchEntry",
    "SearchEntryQuerySet",
    "Series",
    "SeriesQuerySet",
    "TextSearchVector",
    "attached_to_series",
    "indexable",
    "premium_range_annotations",
]
