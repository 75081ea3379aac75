from django import template

register = template.Library()


@register.filter
def texts_of(form, name: str):
    """A text's fields, one per language, to lay them out side by side."""
    return form.text_fields(name)
