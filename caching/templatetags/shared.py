"""`{% shared "name" var=value … %}…{% endshared %}`: a part of a page kept in the worker,
rendered from the named values alone, which also make up its key (caching/kept.py).

    {% shared "pager" series=series previous=previous next=next %}
      {% include "includes/_pager.html" %}
    {% endshared %}

`{% own %}…{% endown %}`: the reader's own part of a page kept per tier (caching.kept.
render_page), rendered for each request from its whole context; on any other page it is
rendered in place. `{% own lesson=lesson %}` takes values of the kept page by name as well
(inside a loop, the item the reader's part is about): they are read when the page is kept,
from what its key names, and shown beside the request's context.
"""

from django import template
from django.template.base import token_kwargs

from caching import kept

register = template.Library()


class SharedNode(template.Node):
    def __init__(self, nodelist, name, values):
        self.nodelist, self.name, self.values = nodelist, name, values

    def render(self, context):
        values = {name: value.resolve(context) for name, value in self.values.items()}
        # Two templates may give their parts the same name: the template names the key too.
        where = self.origin.template_name if self.origin else ""
        return kept.render_part(context, f"{where}#{self.name}", values, self.nodelist)


@register.tag
def shared(parser, token):
    bits = token.split_contents()
    if len(bits) < 2 or bits[1][0] not in "\"'" or bits[1][-1] != bits[1][0]:
        raise template.TemplateSyntaxError(
            "{% shared %} takes a quoted name, then the values it is rendered from: "
            '{% shared "name" var=value … %}'
        )
    rest = bits[2:]
    values = token_kwargs(rest, parser, support_legacy=False)
    if rest:
        raise template.TemplateSyntaxError(
            f"{{% shared %}} takes only name=value pairs after its name, not {rest[0]!r}."
        )
    nodelist = parser.parse(("endshared",))
    parser.delete_first_token()
    return SharedNode(nodelist, bits[1][1:-1], values)


class OwnNode(template.Node):
    def __init__(self, nodelist, place: tuple, values=None):
        # Where it is (its template's name, and which {% own %} of it it is), which
        # names it in a page kept in the shared cache (caching.kept.render_page).
        self.nodelist, self.place, self.values = nodelist, place, values or {}

    def render(self, context):
        return kept.render_own(context, self)


@register.tag
def own(parser, token):
    rest = token.split_contents()[1:]
    values = token_kwargs(rest, parser, support_legacy=False)
    if rest:
        raise template.TemplateSyntaxError(
            f"{{% own %}} takes only name=value pairs (values of the page), not {rest[0]!r}."
        )
    parser.own_blocks = getattr(parser, "own_blocks", 0) + 1
    # by the template's name, not its file: servers installed at different paths share what
    # they keep
    origin = parser.origin
    place = ((origin.template_name or origin.name) if origin else "", parser.own_blocks)
    nodelist = parser.parse(("endown",))
    parser.delete_first_token()
    return OwnNode(nodelist, place, values)
