from django.apps import AppConfig

from caching import backend, generation, keys


def _recovered(**kwargs) -> None:
    """The cache is back, perhaps holding feeds and a generation from before a change it
    missed while away (a lesson made premium, say): none of them is used again."""
    generation.invalidate()


class CachingConfig(AppConfig):
    name = "caching"
    verbose_name = "Caching"

    def ready(self):
        backend.recovered.connect(_recovered, dispatch_uid="caching.generation")

    def warm_up(self):
        """Before a server's workers are forked (config/wsgi.py): the code version that what
        the shared cache keeps names, worked out once for all of them."""
        keys.code_version()
