"""The Jinja2 environment for respondents' pages (templates/jinja2/).

Respondents' pages are the platform's hottest path, and Django's template engine took about a fifth
of the workers' CPU in bench/respondents_bench.py. Jinja2 compiles a template to Python once, where
Django walks its nodes on every render: the same page renders in about two thirds of the time. Staff
pages and emails stay with Django's engine.

Interface text goes through `_()` only, as `{{ _("Text") }}` or `{{ _("Text %(name)s")|format(name=…) }}`
(escaped like any value), so that `manage.py makemessages` finds it in these templates as it does in
Django's. Plurals are worded in Python with `ngettext`, which makemessages finds there.
"""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings
from django.contrib.messages import get_messages
from django.middleware.csrf import get_token
from django.template.backends.utils import csrf_input
from django.templatetags.static import static
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.html import json_script
from django.utils.translation import get_language, gettext
from jinja2 import Environment
from markupsafe import Markup, escape

from consultation.richtext import render as richtext


def csrf_once(request) -> dict:
    """The CSRF token masked once per page, as Django's own engine does; its Jinja2 backend masks it
    again for each form (64 random draws each, a quarter of a page's render)."""
    return {
        "csrf_token": SimpleLazyObject(lambda: get_token(request)),
        "csrf_input": SimpleLazyObject(lambda: csrf_input(request)),
    }


def linebreaksbr(text) -> Markup:
    """Django's `linebreaksbr` filter, escaping as Jinja does: the review lists every answer
    through it, and Django's lazy-text wrappers cost more than the work."""
    lines = str(escape(text)).replace("\r\n", "\n").replace("\r", "\n")
    return Markup(lines.replace("\n", "<br>"))


def answer_list(lines) -> Markup:
    """The `<dt>` question `<dd>` answer pairs of a review, printable copy or preview: one string
    built in Python, where a template loop cost a millisecond for a questionnaire's sixty answers."""
    return Markup(
        "".join(f"<dt>{escape(line.question)}</dt><dd>{linebreaksbr(line.answer)}</dd>\n" for line in lines)
    )


def url(name: str, *args) -> str:
    """`reverse(name, args=args)`, kept once worked out: a respondent's page names four or five
    addresses, and Django resolves each afresh (30 µs each)."""
    return _url(name, args, settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())


@lru_cache(maxsize=4096)
def _url(name: str, args: tuple, root_urlconf: str, urlconf: str | None, prefix: str) -> str:
    return reverse(name, args=args, urlconf=urlconf)


def environment(**options) -> Environment:
    env = Environment(**options)
    env.globals.update(
        _=gettext, url=url, static=static, get_language=get_language, get_messages=get_messages
    )
    env.filters.update(
        richtext=richtext,
        linebreaksbr=linebreaksbr,
        answer_list=answer_list,
        json_script=json_script,
    )
    return env
