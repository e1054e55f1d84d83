"""`{% shared key … %}…{% endshared %}`: a part of a page that is the same for everyone the
keys name, rendered once and kept in the worker (lessons/pages.py), in the language of the page.

The keys must name everything the part depends on besides the content (whose writes drop every
kept part) and the language: a lesson's id and the access decision's outcome, a page's path,
whether the reader is logged in. Nothing personal may go inside: no message, no reader's own
data. Those stay outside, rendered for each request.

The one personal value a part may hold is the CSRF token: the part is rendered with a marker
in its place, and each request's own token replaces the marker on the way out. So a kept part
never holds a real token, and a request whose page shows no token does not ask for one.
"""

import secrets

from django import template
from django.utils import translation
from django.utils.safestring import mark_safe

from lessons import pages

register = template.Library()

# Random for each process, so no text from an author or a reader can contain it.
CSRF_MARKER = f"csrf-{secrets.token_hex(16)}"


class SharedNode(template.Node):
    def __init__(self, nodelist, keys):
        self.nodelist, self.keys = nodelist, keys

    def render(self, context):
        key = (
            "shared",
            self.origin.name if self.origin else "",
            self.token.lineno if self.token else 0,
            translation.get_language(),
            *(str(key.resolve(context)) for key in self.keys),
        )
        html = pages.fragments.get(key, lambda: self._render_with_marker(context))
        if CSRF_MARKER in html:
            html = html.replace(CSRF_MARKER, str(context.get("csrf_token", "")))
        return mark_safe(html)  # noqa: S308 (rendered by the template engine, escaped there)

    def _render_with_marker(self, context):
        with context.update({"csrf_token": CSRF_MARKER}):
            return self.nodelist.render(context)


@register.tag
def shared(parser, token):
    keys = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endshared",))
    parser.delete_first_token()
    return SharedNode(nodelist, keys)
