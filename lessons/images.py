"""Images in lessons: what an upload must be, and how it is stored.

An upload is opened with Pillow, which decides what the file really is (never its name or the
browser's word): JPEG, PNG, GIF or WebP, at most LESSON_IMAGE_MAX_BYTES, and at most
LESSON_IMAGE_MAX_PIXELS once decoded (all frames together) and MAX_SIDE pixels a side, checked
from the header before anything is decoded, since a small file can claim a huge picture (a
"decompression bomb"). It is then decoded and written again: EXIF and other metadata (camera,
place, time, comments) are left behind, a photo is turned upright as its camera said, and
nothing hidden after the image data survives.

The stored name is made of a hash of the result and its size, such as
`lessons/images/3f9a0c…-1200x800.png`: the same image is stored once, a name never changes
what it shows (so it can be cached for good), and the Markdown pipeline knows an image's
width and height from its address alone.
"""

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _

FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
CONTENT_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
MAX_SIDE = 10_000
FOLDER = "lessons/images"
# Kept when an image is written again: what is needed to show it as it was drawn.
_KEEP_INFO = {"transparency", "duration", "loop", "background", "disposal", "icc_profile"}


@dataclass(frozen=True)
class CleanImage:
    """An image that passed every check, written again without its metadata."""

    content: bytes
    format: str  # a key of FORMATS
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()

    @property
    def name(self) -> str:
        """Its name in the media storage."""
        return f"{FOLDER}/{self.sha256[:20]}-{self.width}x{self.height}.{FORMATS[self.format]}"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _not_an_image(name: str) -> ValidationError:
    return ValidationError(
        _(
            "“%(name)s” is not an image this site can use. Upload a JPEG, PNG, GIF or WebP "
            "file (a screenshot or a photo), not a document or a renamed file."
        ),
        code="not_an_image",
        params={"name": name},
    )


def _too_many_pixels(width: int = 0, height: int = 0, frames: int = 1) -> ValidationError:
    """`width` and `height` unknown (0): Pillow refused to open so large a picture at all."""
    return ValidationError(
        _(
            "This image is %(width)s × %(height)s pixels%(frames)s: too large to show in a "
            "lesson (the most is %(pixels)s million pixels and %(side)s pixels a side). "
            "Make it smaller, for example 1600 pixels wide, and upload it again."
        )
        if width
        else _(
            "This image has far too many pixels to show in a lesson (the most is %(pixels)s "
            "million pixels and %(side)s pixels a side). Make it smaller, for example 1600 "
            "pixels wide, and upload it again."
        ),
        code="too_many_pixels",
        params={
            "width": width,
            "height": height,
            "frames": f" × {frames}" if frames > 1 else "",
            "pixels": f"{settings.LESSON_IMAGE_MAX_PIXELS / 1_000_000:g}",
            "side": f"{MAX_SIDE:,}",
        },
    )


def check_size(size: int) -> None:
    """Refuse a file over LESSON_IMAGE_MAX_BYTES (before reading it, when its size is known)."""
    limit = settings.LESSON_IMAGE_MAX_BYTES
    if size > limit:
        raise ValidationError(
            _("This file is %(size)s MB; an image can be at most %(limit)s MB."),
            code="too_large",
            params={"size": _megabytes(size), "limit": _megabytes(limit)},
        )


def clean_image(data: bytes, *, name: str = "") -> CleanImage:
    """Check `data` and write it again without metadata; raise ValidationError saying what
    is wrong, in words the author can act on."""
    # Only checking an upload needs Pillow: workers serving pages never load it.
    from PIL import Image, UnidentifiedImageError

    check_size(len(data))
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise _not_an_image(name) from None
    with image:
        width, height = image.size
        frames = getattr(image, "n_frames", 1)
        if (
            max(width, height) > MAX_SIDE
            or width * height * frames > settings.LESSON_IMAGE_MAX_PIXELS
        ):
            raise _too_many_pixels(width, height, frames)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                return _rewrite(image)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_many_pixels(width, height, frames) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise ValidationError(
                _(
                    "“%(name)s” looks like a %(format)s image but cannot be read to the end: "
                    "it is damaged or was cut short. Save it again and upload the new file."
                ),
                code="damaged",
                params={"name": name, "format": image.format},
            ) from None


def _rewrite(image) -> CleanImage:
    """Decode every pixel and encode them again, keeping only what showing them needs."""
    from PIL import ImageOps

    kind = image.format
    animated = getattr(image, "is_animated", False)
    out = io.BytesIO()
    if animated:
        image.load()
        image.info = {k: v for k, v in image.info.items() if k in _KEEP_INFO}
        image.save(out, format=kind, save_all=True, optimize=kind == "GIF")
        size = image.size
    else:
        upright = ImageOps.exif_transpose(image)
        upright.load()
        upright.info = {k: v for k, v in upright.info.items() if k in _KEEP_INFO}
        if kind == "JPEG":
            if upright.mode not in ("RGB", "L", "CMYK"):
                upright = upright.convert("RGB")
            upright.save(out, format="JPEG", quality=88, optimize=True, progressive=True,
                         icc_profile=upright.info.get("icc_profile"))  # fmt: skip
        else:
            upright.save(out, format=kind, optimize=kind in ("PNG", "GIF"))
        size = upright.size
    return CleanImage(out.getvalue(), kind, *size)


def store(image: CleanImage) -> str:
    """Put the image in the media storage under its name, once; return the name."""
    if not default_storage.exists(image.name):
        saved = default_storage.save(image.name, ContentFile(image.content))
        assert saved == image.name, f"the storage renamed {image.name} to {saved}"
    return image.name


def url_for(name: str) -> str:
    """Where lessons link an image: under MEDIA_URL, the site's own address for uploads."""
    return settings.MEDIA_URL + name


def markdown_for(url: str, alt: str = "") -> str:
    """What an author pastes into a lesson to show the image."""
    description = " ".join(alt.split()).replace("[", "(").replace("]", ")")
    return f"![{description or _('Describe the image')}]({url})"
