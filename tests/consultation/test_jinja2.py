"""The Jinja2 environment's helpers for respondents' pages give what Django's own would."""

from django.test import override_settings
from django.urls import clear_script_prefix, include, path, reverse, set_script_prefix

from consultation.jinja2 import linebreaksbr, url


def test_url_is_djangos_reverse_under_whatever_prefix_and_urlconf_is_in_force():
    assert url("respondents:page", 3) == reverse("respondents:page", args=[3]) == "/r/page/3/"
    assert url("respondents:review") == "/r/review/"
    try:
        set_script_prefix("/consultation/")  # served under a path by a proxy (SCRIPT_NAME)
        assert (
            url("respondents:page", 3) == reverse("respondents:page", args=[3]) == "/consultation/r/page/3/"
        )
    finally:
        clear_script_prefix()
        set_script_prefix("/")
    assert url("respondents:page", 3) == "/r/page/3/"
    with override_settings(ROOT_URLCONF=__name__):  # another URLconf, where the pages live elsewhere
        assert url("respondents:page", 3) == "/elsewhere/page/3/"
    assert url("respondents:page", 3) == "/r/page/3/"


urlpatterns = [path("elsewhere/", include("respondents.urls"))]


def test_linebreaksbr_escapes_then_breaks_lines():
    assert linebreaksbr("a <b>\r\nc\rd\ne") == "a &lt;b&gt;<br>c<br>d<br>e"


def test_answer_list_escapes_each_question_and_answer_and_breaks_the_answers_lines():
    from consultation.jinja2 import answer_list
    from respondents.presenters import AnswerLine

    lines = [AnswerLine("Q1", "Sites <all>?", "A & B\nC"), AnswerLine("Q2", 'Say "why"', "—")]
    assert answer_list(lines) == (
        "<dt>Sites &lt;all&gt;?</dt><dd>A &amp; B<br>C</dd>\n<dt>Say &#34;why&#34;</dt><dd>—</dd>\n"
    )
    assert answer_list([]) == ""
