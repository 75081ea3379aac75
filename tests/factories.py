"""Factories shared by every app's tests."""

import factory
from django.contrib.auth import get_user_model

from questionnaires.models import Choice, Domain, Membership, Question, Questionnaire

# Every factory-made user's password, for tests that log in through the form.
PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password(PASSWORD)


class QuestionnaireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Questionnaire

    slug = factory.Sequence(lambda n: f"consultation-{n}")
    languages = ["en", "fr"]
    title = factory.LazyAttribute(lambda q: {"en": f"Consultation {q.slug}", "fr": f"Consultation {q.slug}"})


class DomainFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Domain

    questionnaire = factory.SubFactory(QuestionnaireFactory)
    code = factory.Sequence(lambda n: f"D{n}")
    position = factory.Sequence(int)
    title = {"en": "Domain", "fr": "Domaine"}


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    domain = factory.SubFactory(DomainFactory)
    questionnaire = factory.SelfAttribute("domain.questionnaire")
    code = factory.Sequence(lambda n: f"Q{n:03d}")
    position = factory.Sequence(int)
    type = "short_text"
    text = {"en": "Question?", "fr": "Question ?"}


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory, type="single_choice")
    code = factory.Sequence(lambda n: f"C{n}")
    value = factory.Sequence(int)
    label = {"en": "Choice", "fr": "Choix"}


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    questionnaire = factory.SubFactory(QuestionnaireFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.RESEARCHER
