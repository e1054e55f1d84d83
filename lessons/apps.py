from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LessonsConfig(AppConfig):
    name = "lessons"
    verbose_name = _("Lessons")

    def ready(self):
        from caching import generation
        from lessons.models import Lesson

        # A scheduled lesson coming out changes what readers see, as a save does.
        generation.horizons.append(Lesson.objects.next_publication)
