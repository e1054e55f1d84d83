"""`{% shared key … %}…{% endshared %}`: a part of a page that is the same for everyone the
keys name, rendered once and kept in the worker (lessons/sharing.py says what a key must name
and how the CSRF token is kept out).
"""

from django import template

from lessons import sharing

register = template.Library()


class SharedNode(template.Node):
    def __init__(self, nodelist, keys):
        self.nodelist, self.keys = nodelist, keys

    def render(self, context):
        key = (
            self.origin.name if self.origin else "",
            self.token.lineno if self.token else 0,
            *(str(key.resolve(context)) for key in self.keys),
        )
        html = sharing.part(key, lambda: self._render_with_marker(context))
        return sharing.with_token(html, lambda: context.get("csrf_token", ""))

    def _render_with_marker(self, context):
        with context.update({"csrf_token": sharing.CSRF_MARKER}):
            return self.nodelist.render(context)


@register.tag
def shared(parser, token):
    keys = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endshared",))
    parser.delete_first_token()
    return SharedNode(nodelist, keys)
