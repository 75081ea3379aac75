"""The database itself keeps codes unique and values sane, whatever path a write takes."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from tests.factories import ChoiceFactory, DomainFactory, QuestionFactory, QuestionnaireFactory

pytestmark = pytest.mark.django_db


def refused(factory, **kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**kwargs)


def test_question_codes_are_unique_in_a_questionnaire_but_not_across():
    first = QuestionFactory(code="D1_Q01")
    refused(QuestionFactory, code="D1_Q01", domain=DomainFactory(questionnaire=first.questionnaire))
    QuestionFactory(code="D1_Q01")  # another questionnaire may reuse it


def test_choice_codes_and_values_are_unique_in_a_question():
    choice = ChoiceFactory(code="YES", value=1)
    refused(ChoiceFactory, question=choice.question, code="YES", value=2)
    refused(ChoiceFactory, question=choice.question, code="NO", value=1)
    ChoiceFactory(question=choice.question, code="ROW", kind="item", value=None)
    refused(ChoiceFactory, question=choice.question, code="NOVALUE", value=None)


def test_one_question_per_breakdown_mark():
    first = QuestionFactory(type="country", breakdown="country")
    refused(QuestionFactory, type="country", breakdown="country", domain=first.domain)
    QuestionFactory(domain=first.domain, breakdown="")
    QuestionFactory(domain=first.domain, breakdown="")


def test_closing_date_after_opening_date():
    now = timezone.now()
    refused(QuestionnaireFactory, opens_at=now, closes_at=now - timedelta(days=1))


def test_unknown_type_and_status_are_refused():
    refused(QuestionFactory, type="slider")
    refused(QuestionnaireFactory, status="archived")
    refused(QuestionFactory, type="number", min_value=5, max_value=1)
