"""`{% shared key … %}…{% endshared %}`: a part of a page that is the same for everyone the
keys name, rendered once and kept in the worker (lessons/pages.py), in the language of the page.

The keys must name everything the part depends on besides the content (whose writes drop every
kept part) and the language: a lesson's id and the access decision's outcome, a page's path,
whether the reader is logged in. Nothing personal may go inside: no CSRF token, no message, no
reader's own data. Those stay outside, rendered for each request.
"""

from django import template
from django.utils import translation

from lessons import pages

register = template.Library()


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
        return pages.fragments.get(key, lambda: self.nodelist.render(context))


@register.tag
def shared(parser, token):
    keys = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endshared",))
    parser.delete_first_token()
    return SharedNode(nodelist, keys)
