"""Saving an offer: render its texts, save it, and tell the site that what readers see
changed, in one transaction."""

from django.db import transaction

import caching
from access.offer.models import Offer


def save_offer(offer: Offer, *, update_fields=None, rendered: bool = False) -> None:
    """Render the offer's Markdown (unless the caller just did: `rendered`) within lessons'
    rendering limits and the request's budget, then save it and say that what readers see
    changed (caching.content_changed), in one transaction. Raises
    lessons.rendering.limits.RenderError for a text `full_clean()` would refuse."""
    if not rendered:
        offer.render()
    with transaction.atomic():
        offer.save(update_fields=update_fields)
        caching.content_changed()
