"""What other apps add to the sales dashboard, registered in their AppConfig.ready(), so that
access/ names none of them: sections, templates shown under the headline in the order
registered, with the page's context (`period`, `series`, `figures`). payments/ registers its
orders paid on the site."""

_sections: list[str] = []


def register_section(template_name: str) -> None:
    if template_name not in _sections:
        _sections.append(template_name)


def sections() -> tuple[str, ...]:
    return tuple(_sections)
