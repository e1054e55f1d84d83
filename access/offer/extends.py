"""What the offer adds to lessons' jobs, registered by AccessConfig.ready(): its keys of
series.yaml to the importer (lessons.importer.sections), and its rendered texts to
render_lessons (lessons.rendering.others). lessons/ never imports access/; access/ hands it
these through the two registries lessons/ keeps for other apps."""

from access.offer.importer import OfferSection
from access.offer.models import Offer
from access.offer.services import save_offer
from lessons.importer import sections
from lessons.rendering import others


def _save_rendered(offer: Offer) -> None:
    save_offer(offer, update_fields=list(Offer.RENDERED_FIELDS), rendered=True)


def register() -> None:
    sections.register(OfferSection())
    others.register(
        others.RenderedElsewhere(
            label="offers",
            records=lambda: Offer.objects.select_related("series").order_by(
                "series__position", "series__title"
            ),
            fields=Offer.RENDERED_FIELDS,
            save=_save_rendered,
        )
    )
