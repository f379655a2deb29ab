from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_query(context, param, number):
    """The current query string with one page parameter set, so two listings on a page page apart."""
    request = context.get("request")
    if request is None:
        return f"?{param}={number}"
    query = request.GET.copy()
    query[param] = number
    return "?" + query.urlencode()
