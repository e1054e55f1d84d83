"""What other apps show beside the seller's contact buttons wherever an offer is shown (the
paywall, the call to action): the names of their templates, registered in their
AppConfig.ready(). templates/access/_contact_buttons.html includes each, in the order
registered, under the price and above the DM button, with its own context (`series`, `offer`,
`lesson` where there is one, `user`, `csrf_token`), so access/ names no other app's template:
payments/ registers its pay button here."""

_templates: list[str] = []


def register(template_name: str) -> None:
    """Show `template_name` with every offer's buttons (once, however often registered)."""
    if template_name not in _templates:
        _templates.append(template_name)


def templates() -> tuple[str, ...]:
    """The registered templates, in the order registered."""
    return tuple(_templates)
