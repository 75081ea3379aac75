"""Walk every URL in the URLconf as every kind of visitor and check the status each one gets.

A URL without an entry in EXPECTED (or, for the Django admin, in admin_expected) fails the test:
every new page states who may open it. The README's permission matrix says the same in words.
"""

from __future__ import annotations

import copy
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from consultation.models import AuditEntry
from questionnaires.models import Choice, ConsentVersion, Domain, Membership, Question, Questionnaire
from questionnaires.services import membership_set, questionnaire_import, questionnaire_set_status
from respondents.services import response_consent, response_save_domain, seed_invite
from tests.conftest import EVERY_TYPE
from tests.factories import QuestionnaireFactory, UserFactory

ACTORS = ("anonymous", "respondent", "other_member", "monitor", "researcher", "owner", "superuser")

# status for each actor, in the order of ACTORS
LOGIN = 302  # sent to the login page
GONE = 404  # not a member: the questionnaire's existence is not revealed


def row(*statuses: int) -> dict[str, int]:
    assert len(statuses) == len(ACTORS)
    return dict(zip(ACTORS, statuses, strict=True))


EVERYONE_200 = row(200, 200, 200, 200, 200, 200, 200)

# (method, statuses). POST-only actions are checked with POST: their GET answers 405.
EXPECTED: dict[str, tuple[str, dict[str, int]]] = {
    "home": ("GET", row(LOGIN, LOGIN, 200, 200, 200, 200, 200)),
    "health": ("GET", EVERYONE_200),
    "login": ("GET", EVERYONE_200),
    "logout": ("POST", row(302, 302, 302, 302, 302, 302, 302)),
    # Setting up or giving a second factor: for any staff account, after the password.
    "two_factor": ("GET", row(LOGIN, LOGIN, 200, 200, 200, 200, 200)),
    "questionnaires:detail": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    "questionnaires:status": ("POST", row(LOGIN, LOGIN, GONE, 403, 302, 302, 302)),
    "questionnaires:definition": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "questionnaires:members": ("GET", row(LOGIN, LOGIN, GONE, 403, 403, 200, 200)),
    "questionnaires:member_remove": ("POST", row(LOGIN, LOGIN, GONE, 403, 403, 302, 302)),
    # Purging personal data is for owners; the walk's questionnaire is open, so the page says why not.
    "questionnaires:purge": ("GET", row(LOGIN, LOGIN, GONE, 403, 403, 200, 200)),
    "respondents_staff:invitations": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    # An upload without a file is refused as malformed by those allowed to upload.
    "respondents_staff:invitations_upload": ("POST", row(LOGIN, LOGIN, GONE, 403, 400, 400, 400)),
    # Chains are for every member (monitors watch them grow); names only with personal-data access.
    "respondents_staff:chains": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    "respondents_staff:invitation": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    "respondents_staff:invitation_resend": ("POST", row(LOGIN, LOGIN, GONE, 403, 302, 302, 302)),
    # A correction without an address is refused as a form error by those allowed to correct.
    "respondents_staff:invitation_address": ("POST", row(LOGIN, LOGIN, GONE, 403, 400, 400, 400)),
    "respondents_staff:invitation_revoke": ("POST", row(LOGIN, LOGIN, GONE, 403, 302, 302, 302)),
    # Erasing one respondent is for owners; without the confirmation box it goes back with why.
    "respondents_staff:invitation_erase": ("POST", row(LOGIN, LOGIN, GONE, 403, 403, 302, 302)),
    "respondents_staff:invitation_bounced": ("POST", row(LOGIN, LOGIN, GONE, 403, 302, 302, 302)),
    "respondents_staff:remind": ("POST", row(LOGIN, LOGIN, GONE, 403, 302, 302, 302)),
    "respondents_staff:reminders": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    # The dashboard is for every member, monitors included; it shows pseudonyms only.
    "dashboard:overview": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    "dashboard:data": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    "dashboard:chains": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    # Results, open answers and the report are for every member (pseudonyms only); coding open
    # answers is for owners and researchers (an empty tagging form is malformed: 400).
    "dashboard:results": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    "dashboard:open_answers": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    "dashboard:tag": ("POST", row(LOGIN, LOGIN, GONE, 403, 400, 400, 400)),
    "dashboard:untag": ("POST", row(LOGIN, LOGIN, GONE, 403, 400, 400, 400)),
    "dashboard:report": ("GET", row(LOGIN, LOGIN, GONE, 200, 200, 200, 200)),
    # Exports are for owners and researchers; a file is downloaded only by whoever asked for it.
    "dashboard:exports": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "dashboard:export_download": ("GET", row(LOGIN, LOGIN, GONE, 403, 404, 404, 404)),
    # Authoring: any staff account sees the list of what it may author (possibly empty); creating
    # and duplicating need the site permission to add questionnaires; the rest is for owners and
    # researchers of the questionnaire.
    "author:index": ("GET", row(LOGIN, LOGIN, 200, 200, 200, 200, 200)),
    "author:new": ("GET", row(LOGIN, LOGIN, 403, 403, 403, 403, 200)),
    "author:duplicate": ("GET", row(LOGIN, LOGIN, GONE, 403, 403, 403, 200)),
    "author:outline": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "author:settings": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "author:translations": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    # The walk's questionnaire is open: no domain can be added (back to the outline, with why).
    "author:domain_new": ("GET", row(LOGIN, LOGIN, GONE, 403, 302, 302, 302)),
    # An order form without an order is refused as malformed.
    "author:domains_order": ("POST", row(LOGIN, LOGIN, GONE, 403, 400, 400, 400)),
    "author:domain": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    # The confirmation page, which on an open questionnaire says why it cannot be deleted.
    "author:domain_delete": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "author:question_new": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "author:questions_order": ("POST", row(LOGIN, LOGIN, GONE, 403, 400, 400, 400)),
    "author:question": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "author:question_delete": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "author:preview": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    "author:preview_page": ("GET", row(LOGIN, LOGIN, GONE, 403, 200, 200, 200)),
    # Respondent pages: only the session opened by a personal link gets in; everyone else,
    # staff included, gets the neutral page.
    "respondents:landing": ("GET", row(GONE, 200, GONE, GONE, GONE, GONE, GONE)),
    # Consent answers with the page to go on with; the walk's unfinished Submit goes back to the review.
    "respondents:consent": ("POST", row(GONE, 200, GONE, GONE, GONE, GONE, GONE)),
    "respondents:decline": ("POST", row(GONE, 302, GONE, GONE, GONE, GONE, GONE)),
    "respondents:language": ("POST", row(GONE, 302, GONE, GONE, GONE, GONE, GONE)),
    "respondents:resume": ("GET", row(GONE, 302, GONE, GONE, GONE, GONE, GONE)),
    "respondents:page": ("GET", row(GONE, 200, GONE, GONE, GONE, GONE, GONE)),
    "respondents:review": ("GET", row(GONE, 200, GONE, GONE, GONE, GONE, GONE)),
    "respondents:submit": ("POST", row(GONE, 302, GONE, GONE, GONE, GONE, GONE)),
    "respondents:thanks": ("GET", row(GONE, 302, GONE, GONE, GONE, GONE, GONE)),
    # The walk's respondent has not submitted yet: nominating is refused as "not now".
    "respondents:nominate": ("POST", row(GONE, 409, GONE, GONE, GONE, GONE, GONE)),
    "respondents:forward": ("POST", row(GONE, 409, GONE, GONE, GONE, GONE, GONE)),
    # The opt-out link's token is its credential, whoever opens it; the GET only asks to confirm.
    "respondents:opt_out": ("GET", EVERYONE_200),
    # Whoever holds a personal link is let in (the token is the credential).
    "respondents:link": ("GET", row(302, 302, 302, 302, 302, 302, 302)),
}

# What a POST sends, where an empty POST would be refused as malformed (400).
POST_DATA = {"questionnaires:status": {"status": "closed"}, "respondents:language": {"language": "fr"}}

# The Django admin is for superusers only; every other visitor is sent to its login page.
ADMIN_SUPERUSER_EXCEPTIONS = {
    "admin:login": 302,  # already logged in: on to the index
    "admin:logout": 405,  # logging out takes a POST
    "admin:autocomplete": 403,  # without its query parameters
    "admin:view_on_site": 302,  # to the questionnaire's page
    "admin:consultation_auditentry_add": 403,  # the audit log is written by the application only
    "admin:consultation_auditentry_delete": 403,
    "admin:questionnaires_consentversion_add": 403,
    "admin:questionnaires_consentversion_delete": 403,
    # The walk's questionnaire is open: its definition can no longer be deleted piece by piece.
    "admin:questionnaires_questionnaire_delete": 403,
    "admin:questionnaires_domain_delete": 403,
    "admin:questionnaires_question_delete": 403,
    "admin:questionnaires_choice_delete": 403,
    "admin/(?P<url>.*)$": 404,
}
ADMIN_ANONYMOUS_EXCEPTIONS = {"admin:login": 200}


def admin_expected(key: str, actor: str, url: str = "") -> int:
    if actor == "superuser":
        if key.endswith("/<path:object_id>/"):  # the bare object URL redirects to its change page
            return 302
        if "/None/" in url:  # a model without rows in the walk: an unknown object goes back to the list
            return 302
        if re.fullmatch(r"admin:axes_\w+_add", key):
            return 403  # login attempts are recorded by django-axes, never added by hand
        if key == "admin:otp_totp_totpdevice_add":
            return 403  # an authenticator is set up by its owner, never by an administrator
        if re.fullmatch(r"admin:respondents_\w+_(add|delete)", key):
            return 403  # respondents' data changes only through the platform's pages
        return ADMIN_SUPERUSER_EXCEPTIONS.get(key, 200)
    return ADMIN_ANONYMOUS_EXCEPTIONS.get(key, 302)


def walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else route), route


@pytest.fixture
def world(db):
    owner = UserFactory(username="owner")
    questionnaire = questionnaire_import(raw=EVERY_TYPE.read_bytes(), actor=owner)
    questionnaire_set_status(questionnaire=questionnaire, status="open", actor=owner)
    users = {name: UserFactory(username=name) for name in ("monitor", "researcher", "other_member")}
    membership_set(questionnaire=questionnaire, user=users["monitor"], role="monitor", actor=owner)
    membership_set(questionnaire=questionnaire, user=users["researcher"], role="researcher", actor=owner)
    membership_set(questionnaire=QuestionnaireFactory(), user=users["other_member"], role="owner", actor=None)
    users["owner"] = owner
    Group.objects.create(name="Research branch")
    users["superuser"] = get_user_model().objects.create_superuser("root", "root@example.org", "x" * 12)
    invitation = seed_invite(questionnaire=questionnaire, email="official@example.gov", actor=owner)
    response = response_consent(invitation=invitation, language="en")
    response_save_domain(
        response=response,
        domain_code="PROFILE",
        submitted={"P_COUNTRY": ["CA"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["3"]},
    )
    return questionnaire, users, invitation


def clients(users, invitation) -> dict[str, Client]:
    result = {"anonymous": Client()}
    respondent = Client()
    assert respondent.get(f"/r/{invitation.token}/").status_code == 302
    result["respondent"] = respondent
    for name, user in users.items():
        client = Client()
        client.force_login(user)
        result[name] = client
    return result


def concrete_url(route: str, questionnaire: Questionnaire, invitation) -> str:
    """Fill a route's parameters with objects of the walk's world."""
    admin_model = re.match(r"admin/(\w+)/(\w+)/", route)
    object_id = ""
    if admin_model:
        app_label, model_name = admin_model.groups()
        content_type = ContentType.objects.filter(app_label=app_label, model=model_name).first()
        if content_type is not None:
            model = content_type.model_class()
            object_id = str(model._default_manager.order_by("pk").values_list("pk", flat=True).first())
    monitor_membership = Membership.objects.get(questionnaire=questionnaire, role="monitor")
    replacements = {
        "<slug:slug>": questionnaire.slug,
        "<int:membership_id>": str(monitor_membership.pk),
        "<int:number>": "1",
        "<int:domain_id>": str(questionnaire.domains.order_by("pk").first().pk),
        "<int:question_id>": str(questionnaire.questions.order_by("pk").first().pk),
        "<str:language>": "en",
        "<int:export_id>": "999999",
        "<str:code>": "D1_Q4",  # an open question
        "<str:token>": invitation.token,
        "<path:object_id>": object_id,
        "<id>": object_id,
        "<path:content_type_id>": str(ContentType.objects.get_for_model(Questionnaire).pk),
        "(?P<url>.*)$": "nothing-here/",
    }
    if "optout/" in route:
        replacements["<str:token>"] = invitation.opt_out_token
    url = re.sub(r"\^\(\?P<app_label>[^)]*\)/\$", "questionnaires/", route)
    for placeholder, value in replacements.items():
        url = url.replace(placeholder, value)
    if "admin/r/" in url:
        url = url.replace(f"/{object_id}/", f"/{questionnaire.pk}/") if object_id else url
        url = re.sub(r"admin/r/(\d+)//?$", rf"admin/r/\1/{questionnaire.pk}/", url)
    assert "<" not in url and "(?P" not in url, f"unfilled parameter in {route}"
    return "/" + url


def test_every_url_gives_each_visitor_the_expected_status(world):
    questionnaire, users, invitation = world
    assert AuditEntry.objects.exists()  # the world's set-up is audited
    visitors = clients(users, invitation)
    routes = list(walk(get_resolver().url_patterns))
    missing = [key for key, _ in routes if key not in EXPECTED and not key.startswith("admin")]
    assert not missing, f"URLs without an entry in the permission walk: {missing}"

    mismatches = []
    for key, route in routes:
        url = concrete_url(route, questionnaire, invitation)
        if key.startswith("admin"):
            method, expected = "GET", {actor: admin_expected(key, actor, url) for actor in ACTORS}
        else:
            method, expected = EXPECTED[key]
        for actor in ACTORS:
            # Each request runs in a savepoint that is rolled back: a POST by one visitor
            # (removing a member, closing the questionnaire) does not change what the next one sees.
            client = visitors[actor]
            cookies = client.cookies
            client.cookies = copy.copy(cookies)  # logging out must not log the next request out
            with transaction.atomic():
                response = client.post(url, POST_DATA.get(key, {})) if method == "POST" else client.get(url)
                transaction.set_rollback(True)
            client.cookies = cookies
            if response.status_code != expected[actor]:
                mismatches.append(
                    f"{method} {url} as {actor}: {response.status_code}, expected {expected[actor]}"
                )
    assert not mismatches, "\n".join(mismatches)


def test_admin_models_cover_every_model():
    """Every model is registered in the Django admin for superusers."""
    from django.contrib import admin

    for model in (Questionnaire, Domain, Question, Choice, ConsentVersion, Membership, AuditEntry):
        assert model in admin.site._registry, model
