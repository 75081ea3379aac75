"""Researcher-written text: the formatting subset survives, anything else is removed when stored
and again when shown; plain text is escaped with its line breaks."""

from __future__ import annotations

import pytest
from django.test import Client

from consultation.richtext import render, sanitise
from questionnaires.authoring import TextCell, text_fingerprint, translations_save
from questionnaires.models import Question
from respondents.services import response_consent, seed_invite

HOSTILE = (
    '<p onclick="steal()">Read <a href="javascript:alert(1)">this</a> and '
    '<a href="https://example.org/privacy">that</a>.</p><script>alert(2)</script>'
    "<img src=x onerror=alert(3)><ul><li><em>one</em></li><li><strong>two</strong></li></ul>"
)


def test_the_subset_stays_and_everything_else_goes():
    clean = sanitise(HOSTILE)
    assert "<script" not in clean and "onerror" not in clean and "onclick" not in clean
    assert "javascript:" not in clean and "<img" not in clean
    assert '<a href="https://example.org/privacy" rel="noopener noreferrer nofollow">that</a>' in clean
    assert "<ul><li><em>one</em></li><li><strong>two</strong></li></ul>" in clean


def test_a_less_than_sign_that_opens_no_allowed_tag_is_text():
    assert str(render("Budget < 10k & staff")) == "<p>Budget &lt; 10k &amp; staff</p>"
    assert str(render("Write to Jane Doe <jane.doe@example.org>")) == (
        "<p>Write to Jane Doe &lt;jane.doe@example.org&gt;</p>"
    )
    assert "1 &lt;= low" in str(render("Scores 1-5, where 1 <= low"))


def test_plain_text_is_escaped_with_its_line_breaks():
    assert str(render("Plain & simple\nsecond")) == "<p>Plain &amp; simple<br>second</p>"
    assert str(render("Line one\n\nLine two")) == "<p>Line one</p>\n\n<p>Line two</p>"
    assert str(render("<em>Inline</em> first\nsecond")) == "<p><em>Inline</em> first<br>second</p>"
    assert str(render("x < 5 <script>y</script>")) == "<p>x &lt; 5 </p>"
    assert str(render("Plain & simple")) == "<p>Plain &amp; simple</p>"  # escaped once


@pytest.mark.django_db
def test_texts_are_sanitised_when_stored_and_shown_to_respondents(open_questionnaire, researcher):
    question = Question.objects.get(questionnaire=open_questionnaire, code="P_LEVEL")
    translations_save(
        questionnaire=open_questionnaire,
        edits={
            TextCell(model, pk, field, language): (text_fingerprint(current.get(language, "")), HOSTILE)
            for model, pk, field, current in (
                ("question", question.pk, "help", question.help),
                ("questionnaire", open_questionnaire.pk, "introduction", open_questionnaire.introduction),
            )
            for language in ("en", "fr")
        },
        actor=researcher,
    )
    question.refresh_from_db()
    open_questionnaire.refresh_from_db()
    # Kept as the researcher wrote it (editing it again shows what they typed) ...
    assert question.help["en"] == open_questionnaire.introduction["en"] == HOSTILE.strip()
    invitation = seed_invite(questionnaire=open_questionnaire, email="r@example.gov", actor=researcher)
    client = Client()
    client.get(f"/r/{invitation.token}/")
    landing = client.get("/r/").content.decode()
    response_consent(invitation=invitation, language="en")
    page = client.get("/r/page/1/").content.decode()
    for html in (landing, page):
        assert (
            "<script>alert(2)" not in html and "onerror=alert" not in html and "javascript:alert" not in html
        )
        assert "<em>one</em>" in html
