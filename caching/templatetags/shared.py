"""`{% shared "name" var=value … %}…{% endshared %}`: a part of a page kept in the worker,
rendered from the named values alone, which also make up its key (caching/kept.py).

    {% shared "pager" series=series previous=previous next=next %}
      {% include "includes/_pager.html" %}
    {% endshared %}
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
