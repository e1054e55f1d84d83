"""Images uploaded for lessons (lessons.images checks and stores them)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from lessons import images
from lessons.models.content import Series


class LessonImageQuerySet(models.QuerySet):
    def store(self, image: images.CleanImage, **fields) -> tuple["LessonImage", bool]:
        """The record of this checked image, putting its file in the media storage the first
        time; (record, created). The same image uploaded twice is kept once."""
        existing = self.filter(sha256=image.sha256).first()
        if existing:
            return existing, False
        name = images.store(image)
        record = self.create(
            file=name,
            width=image.width,
            height=image.height,
            size=len(image.content),
            sha256=image.sha256,
            **fields,
        )
        return record, True


class LessonImage(models.Model):
    """An image uploaded for lessons, checked and stripped of its metadata (lessons.images)
    and stored under a name made of its hash and size."""

    file = models.FileField(_("image"), max_length=200, editable=False)
    alt = models.CharField(
        _("description"),
        max_length=300,
        blank=True,
        help_text=_(
            "What the image shows, for readers who cannot see it; used as the alt text in the "
            "Markdown to paste."
        ),
    )
    series = models.ForeignKey(
        Series,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="images",
        verbose_name=_("series"),
        help_text=_("Optional: the series it is for, to find it again."),
    )
    width = models.PositiveIntegerField(_("width"), editable=False)
    height = models.PositiveIntegerField(_("height"), editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), editable=False)
    sha256 = models.CharField(max_length=64, unique=True, editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = LessonImageQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("lesson image")
        verbose_name_plural = _("lesson images")

    def __str__(self):
        return self.alt or self.file.name.rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        """Its address at MEDIA_URL, whatever the storage (a folder served by the proxy, or
        object storage the proxy passes /media/ to)."""
        return images.url_for(self.file.name)

    @property
    def markdown(self) -> str:
        return images.markdown_for(self.url, self.alt)
