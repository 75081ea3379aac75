import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from consultation.models import AuditEntry
from questionnaires.models import Membership, Questionnaire
from questionnaires.services import membership_set, questionnaire_import
from tests.conftest import EVERY_TYPE
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner():
    """Without the site permission to create questionnaires (conftest's `draft` takes this owner)."""
    return UserFactory(username="owner")


def test_home_lists_the_users_questionnaires_with_counts(client, owner, draft, django_assert_max_num_queries):
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get("/")
    html = response.content.decode()
    assert "Every type" in html and "owner" in html


def test_detail_shows_domains_and_what_blocks_opening(client, owner, draft):
    draft.questions.filter(code="D1_Q3").update(text={"en": "English only"})
    draft.revision += 1
    draft.save()
    client.force_login(owner)
    html = client.get(f"/q/{draft.slug}/").content.decode()
    assert "PROFILE" in html and "D1" in html
    assert "missing translation (fr)" in html
    assert "Open for answers" in html


def test_owner_opens_and_closes_from_the_page(client, owner, draft):
    client.force_login(owner)
    response = client.post(f"/q/{draft.slug}/status/", {"status": "open"}, follow=True)
    assert "The questionnaire is now open." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "open"
    response = client.post(f"/q/{draft.slug}/status/", {"status": "draft"}, follow=True)
    assert "cannot become draft" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == "open"


def test_a_tampered_status_is_a_400_and_changes_nothing(client, owner, draft):
    client.force_login(owner)
    assert client.post(f"/q/{draft.slug}/status/", {"status": "deleted"}).status_code == 400
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_csrf_is_enforced(owner, draft):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(f"/q/{draft.slug}/status/", {"status": "open"}).status_code == 403
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_definition_download_matches_the_export_and_is_audited(client, owner, draft):
    client.force_login(owner)
    response = client.get(f"/q/{draft.slug}/definition.json")
    assert response["Content-Disposition"] == 'attachment; filename="every-type.json"'
    out = StringIO()
    call_command("export_questionnaire", draft.slug, stdout=out)
    assert response.content.decode() == out.getvalue()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.QUESTIONNAIRE_EXPORTED, actor=owner).exists()


def test_members_page_adds_and_removes_members(client, owner, draft):
    UserFactory(username="analyst")
    client.force_login(owner)
    response = client.post(f"/q/{draft.slug}/members/", {"username": "analyst", "role": "monitor"})
    assert response.status_code == 302
    membership = Membership.objects.get(questionnaire=draft, user__username="analyst")
    assert membership.role == "monitor"
    bad = client.post(f"/q/{draft.slug}/members/", {"username": "nobody", "role": "monitor"})
    assert bad.status_code == 400 and "No active staff account" in bad.content.decode()
    bad = client.post(
        f"/q/{draft.slug}/members/",
        {"username": "analyst", "role": "monitor", "can_view_personal_data": "on"},
    )
    assert bad.status_code == 400 and "pseudonymous" in bad.content.decode()
    client.post(f"/q/{draft.slug}/members/{membership.pk}/remove/")
    assert not Membership.objects.filter(pk=membership.pk).exists()
    own = Membership.objects.get(questionnaire=draft, user=owner)
    response = client.post(f"/q/{draft.slug}/members/{own.pk}/remove/", follow=True)
    assert "at least one owner" in response.content.decode()


def test_removing_a_member_of_another_questionnaire_is_a_404(client, owner, draft):
    other = questionnaire_import(raw=EVERY_TYPE.read_bytes(), slug="other", actor=UserFactory())
    foreign = Membership.objects.get(questionnaire=other)
    client.force_login(owner)
    assert client.post(f"/q/{draft.slug}/members/{foreign.pk}/remove/").status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_admin_shows_a_launched_questionnaire_with_codes_frozen(client, owner, draft, django_user_model):
    membership_set(questionnaire=draft, user=owner, role="owner", actor=owner)
    Questionnaire.objects.filter(pk=draft.pk).update(status="open")
    root = django_user_model.objects.create_superuser("root", "r@example.org", "x" * 12)
    client.force_login(root)
    question = draft.questions.get(code="D1_Q1")
    html = client.get(f"/admin/questionnaires/question/{question.pk}/change/").content.decode()
    assert 'name="code"' not in html  # read-only once open
    assert "D1_Q1" in html
    assert client.get(f"/admin/questionnaires/question/{question.pk}/delete/").status_code == 403


def test_admin_edit_of_a_draft_bumps_the_revision_and_is_audited(client, draft, django_user_model):
    root = django_user_model.objects.create_superuser("root", "r@example.org", "x" * 12)
    client.force_login(root)
    domain = draft.domains.get(code="D1")
    before = Questionnaire.objects.get(pk=draft.pk).revision
    response = client.post(
        f"/admin/questionnaires/domain/{domain.pk}/change/",
        {
            "questionnaire": draft.pk,
            "code": "D1",
            "position": 1,
            "title": json.dumps({"en": "Accommodation!", "fr": "Hébergement !"}),
            "description": "{}",
            "condition": "null",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Questionnaire.objects.get(pk=draft.pk).revision == before + 1
    assert AuditEntry.objects.filter(action=AuditEntry.Action.QUESTIONNAIRE_EDITED, actor=root).exists()


def test_load_demo_is_safe_to_run_twice(tmp_path, settings):
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("load_demo", stdout=first)
    call_command("load_demo", stdout=second)
    demo = Questionnaire.objects.get(slug="radicalized-offenders-consultation")
    assert demo.status == "open" and demo.opens_at and demo.closes_at > demo.opens_at
    assert demo.questions.count() >= 7 + 6 * 6
    assert demo.domains.count() == 7
    password = (tmp_path / "demo-password.txt").read_text().strip()
    assert f"password: {password}" in first.getvalue() and f"password: {password}" in second.getvalue()
    assert "already loaded" in second.getvalue()
    assert Questionnaire.objects.filter(slug=demo.slug).count() == 1
    assert Membership.objects.get(questionnaire=demo, user__username="researcher").role == "owner"


def test_load_demo_refuses_without_debug():
    with pytest.raises(CommandError, match="only with DEBUG"):
        call_command("load_demo")
