"""Purging personal data of a closed questionnaire: everywhere it lives, for good, nothing else lost."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from consultation.models import AuditEntry
from questionnaires.services import membership_set, questionnaire_set_status
from respondents.exports import ExportOptions, csv_chunks, edge_csv_chunks, export_file_build
from respondents.models import Answer, ExportFile, Invitation, OutboxMessage
from respondents.privacy import personal_data_purge
from respondents.results import ResultFilters, results
from respondents.services import invitation_mark_bounced, seed_invite
from respondents.simulation import simulate_consultation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def closed(open_questionnaire, researcher, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = seed_invite(
            questionnaire=open_questionnaire, email="chief@example.gov", name="Chief Warden", actor=researcher
        )
    simulate_consultation(open_questionnaire, respondents=40, seed=6)
    invitation_mark_bounced(invitation=invitation, reason="550 <chief@example.gov> unknown", actor=researcher)
    membership_set(
        questionnaire=open_questionnaire,
        user=researcher,
        role="owner",
        can_view_personal_data=True,
        actor=None,
    )
    export = ExportFile.objects.create(
        questionnaire=open_questionnaire,
        requested_by=researcher,
        format="xlsx",
        options=ExportOptions(personal_data=True).as_dict(),
    )
    export_file_build(export.pk)
    return questionnaire_set_status(questionnaire=open_questionnaire, status="closed", actor=researcher)


def personal_traces(questionnaire) -> dict[str, int]:
    return {
        "addresses": Invitation.objects.filter(questionnaire=questionnaire).exclude(email="").count(),
        "names": Invitation.objects.filter(questionnaire=questionnaire).exclude(name="").count(),
        "recipients": OutboxMessage.objects.filter(questionnaire=questionnaire).exclude(to_email="").count(),
        "bodies": OutboxMessage.objects.filter(questionnaire=questionnaire).exclude(body_text="").count(),
        "audit": sum(
            "@example.gov" in str(entry.detail)
            for entry in AuditEntry.objects.filter(questionnaire=questionnaire)
        ),
        "files": ExportFile.objects.filter(questionnaire=questionnaire, options__personal_data=True).count(),
    }


def test_the_dry_run_lists_what_would_go_and_changes_nothing(closed):
    before = personal_traces(closed)
    assert (
        before["addresses"] > 40
        and before["recipients"] > 0
        and before["audit"] == 1
        and before["files"] == 1
    )
    out = StringIO()
    call_command("purge_personal_data", closed.slug, "--dry-run", stdout=out)
    assert f"{before['addresses']} invitation(s)" in out.getvalue()
    assert "1 export file(s)" in out.getvalue()
    assert personal_traces(closed) == before


def test_a_purge_removes_names_and_addresses_everywhere_and_keeps_the_rest(
    closed, researcher, django_capture_on_commit_callbacks
):
    answers = Answer.objects.filter(response__questionnaire=closed).count()
    chain = sorted(
        Invitation.objects.filter(questionnaire=closed).values_list("number", "nominated_by__number", "wave")
    )
    figures = results(closed, ResultFilters(), language="en")
    file_path = ExportFile.objects.get(questionnaire=closed).file.path

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the purge is committed
        report = personal_data_purge(questionnaire=closed, actor=researcher)

    assert report.invitations > 40 and report.export_files == 1
    assert set(personal_traces(closed).values()) == {0}
    assert not Invitation.objects.filter(questionnaire=closed).exclude(organisation="").exists()
    assert Answer.objects.filter(response__questionnaire=closed).count() == answers
    assert (
        sorted(
            Invitation.objects.filter(questionnaire=closed).values_list(
                "number", "nominated_by__number", "wave"
            )
        )
        == chain
    )
    assert results(closed, ResultFilters(), language="en").respondents == figures.respondents
    assert "".join(csv_chunks(closed, ExportOptions(), "en")).count("\n") == figures.respondents + 1
    assert "".join(edge_csv_chunks(closed, ExportOptions())).count("\n") == figures.respondents + 1
    assert not Path(file_path).exists()
    closed.refresh_from_db()
    assert closed.personal_data_purged_at is not None
    entry = AuditEntry.objects.get(action="personal_data.purged")
    assert entry.detail["invitations"] == report.invitations
    with pytest.raises(ValidationError, match="cannot reopen"):
        questionnaire_set_status(questionnaire=closed, status="open", actor=researcher)
    assert personal_data_purge(questionnaire=closed, actor=researcher).total == 0  # again: nothing left


def test_an_open_questionnaire_is_not_purged(open_questionnaire, researcher):
    seed_invite(questionnaire=open_questionnaire, email="x@example.gov", actor=researcher)
    with pytest.raises(ValidationError, match="close it first"):
        personal_data_purge(questionnaire=open_questionnaire, actor=researcher)
    with pytest.raises(CommandError, match="close it first"):
        call_command("purge_personal_data", open_questionnaire.slug)
    assert Invitation.objects.filter(email="x@example.gov").exists()


def test_owners_purge_from_the_page_after_typing_the_address(closed, researcher, client):
    client.force_login(researcher)
    url = f"/q/{closed.slug}/purge/"
    page = client.get(url).content.decode()
    assert "invitation(s)" in page and "cannot be undone" in page
    client.post(url, {"confirm": "wrong"})
    assert Invitation.objects.filter(questionnaire=closed).exclude(email="").exists()
    response = client.post(url, {"confirm": closed.slug})
    assert response.status_code == 302
    assert not Invitation.objects.filter(questionnaire=closed).exclude(email="").exists()


def test_researchers_cannot_purge(closed, client):
    other = UserFactory(username="analyst")
    membership_set(questionnaire=closed, user=other, role="researcher", actor=None)
    client.force_login(other)
    assert client.post(f"/q/{closed.slug}/purge/", {"confirm": closed.slug}).status_code == 403
    assert Invitation.objects.filter(questionnaire=closed).exclude(email="").exists()


@pytest.fixture
def answered_respondent(open_questionnaire, researcher, django_capture_on_commit_callbacks):
    from respondents.coding import answer_tag
    from respondents.services import response_consent, response_save_domain, response_submit

    with django_capture_on_commit_callbacks(execute=True):
        invitation = seed_invite(
            questionnaire=open_questionnaire,
            email="erase.me@example.gov",
            name="Erin",
            country="FR",
            actor=researcher,
        )
    response = response_consent(invitation=invitation, language="en")
    profile = {"P_COUNTRY": ["FR"], "P_LEVEL": ["SENIOR"], "P_SITE": ["ADMIN"], "P_PEERS": ["3"]}
    assert response_save_domain(response=response, domain_code="PROFILE", submitted=profile).ok
    d1 = {"D1_Q1": ["DISPERSAL"], "D1_Q3": ["YES"], "D1_Q4": ["My own words"], "D1_Q7.ISOLATION": ["LOW"],
          "D1_Q7.MIXED": ["HIGH"]}  # fmt: skip
    assert response_save_domain(response=response, domain_code="D1", submitted=d1).ok
    response_submit(response=response)
    answer = Answer.objects.get(response=response, question__code="D1_Q4")
    answer_tag(
        questionnaire=open_questionnaire,
        question_code="D1_Q4",
        answer_id=answer.pk,
        new_theme="T",
        actor=None,
    )
    return invitation


def test_erasing_one_respondent_removes_answers_and_contact_details_and_keeps_the_node(
    answered_respondent, open_questionnaire, researcher
):
    from django.test import Client

    from respondents.dashboard import dashboard
    from respondents.privacy import respondent_erase
    from respondents.recruitment import Peer, nominations_create

    invitation = answered_respondent
    nominations_create(nominator=invitation, peers=[Peer(email="peer@example.gov", language="en")])
    nominee = Invitation.objects.get(nominated_by=invitation)
    before = results(open_questionnaire, ResultFilters(), language="en").respondents

    respondent_erase(invitation=invitation, actor=researcher)

    invitation.refresh_from_db()
    assert (invitation.email, invitation.name, invitation.status) == ("", "", "erased")
    assert invitation.started_at is None and invitation.completed_at is None
    assert not Answer.objects.filter(response__invitation=invitation).exists()
    assert not OutboxMessage.objects.filter(invitation=invitation).exclude(to_email="").exists()
    assert results(open_questionnaire, ResultFilters(), language="en").respondents == before - 1
    nominee.refresh_from_db()
    assert nominee.nominated_by_id == invitation.pk  # the chain keeps the anonymous node
    assert AuditEntry.objects.filter(action="respondent.erased", target_id=str(invitation.pk)).exists()
    assert dashboard(open_questionnaire).total.completed == 0
    assert Client().get(f"/r/{invitation.token}/").status_code == 404  # the link opens nothing


def test_only_owners_erase_and_only_when_confirmed(
    answered_respondent, open_questionnaire, researcher, client
):
    url = f"/q/{open_questionnaire.slug}/invitations/{answered_respondent.number}/erase/"
    other = UserFactory(username="analyst2")
    membership_set(questionnaire=open_questionnaire, user=other, role="researcher", actor=None)
    client.force_login(other)
    assert client.post(url, {"confirm": "erase"}).status_code == 403
    client.force_login(researcher)
    client.post(url, {})
    assert Answer.objects.filter(response__invitation=answered_respondent).exists()
    assert client.post(url, {"confirm": "erase"}).status_code == 302
    assert not Answer.objects.filter(response__invitation=answered_respondent).exists()


def test_an_erasure_reaches_nominees_emails_export_files_and_stops_staff_actions(
    answered_respondent, open_questionnaire, researcher, client, django_capture_on_commit_callbacks
):
    from respondents.privacy import respondent_erase
    from respondents.recruitment import Peer, nominations_create

    invitation = answered_respondent
    with django_capture_on_commit_callbacks(execute=True):
        nominations_create(
            nominator=invitation,
            peers=[Peer(email="peer2@example.gov", language="en", may_name_nominator=True)],
        )
    nominee = Invitation.objects.get(nominated_by=invitation)
    assert any(
        "Erin" in body
        for body in OutboxMessage.objects.filter(invitation=nominee).values_list("body_text", flat=True)
    )
    export = ExportFile.objects.create(
        questionnaire=open_questionnaire, requested_by=researcher, format="xlsx"
    )
    export_file_build(export.pk)
    path = Path(ExportFile.objects.get(pk=export.pk).file.path)

    with django_capture_on_commit_callbacks(execute=True):
        respondent_erase(invitation=invitation, actor=researcher)

    assert not any(
        "Erin" in body
        for body in OutboxMessage.objects.filter(invitation=nominee).values_list("body_text", flat=True)
    )
    nominee.refresh_from_db()
    assert nominee.nominator_may_be_named is False
    assert not ExportFile.objects.filter(pk=export.pk).exists() and not path.exists()
    client.force_login(researcher)
    response = client.post(f"/q/{open_questionnaire.slug}/invitations/{invitation.number}/revoke/")
    assert response.status_code == 409
    invitation.refresh_from_db()
    assert invitation.status == "erased"
    from respondents import services

    for action in (
        lambda: services.invitation_resend(invitation=invitation, actor=researcher),
        lambda: services.invitation_revoke(invitation=invitation, actor=researcher),
        lambda: services.invitation_mark_bounced(invitation=invitation, reason="550", actor=None),
        lambda: services.invitation_correct_address(
            invitation=invitation, email="new@example.gov", actor=None
        ),
    ):  # whoever calls the services, not only the staff pages
        with pytest.raises(services.InvitationErased):
            action()
    invitation.refresh_from_db()
    assert (invitation.status, invitation.email, invitation.email_failure) == ("erased", "", "")


def test_a_closed_or_purged_questionnaire_invites_no_one(closed, researcher):
    from respondents.services import InvitationError, seeds_import_csv

    with pytest.raises(InvitationError, match="closed"):
        seed_invite(questionnaire=closed, email="late@example.gov", name="Late", actor=researcher)
    with pytest.raises(InvitationError, match="closed"):
        seeds_import_csv(
            questionnaire=closed,
            text="email,name,organisation,country,language\nl@x.org,L,,CA,en\n",
            actor=researcher,
        )
    assert not Invitation.objects.filter(email__in=["late@example.gov", "l@x.org"]).exists()


def test_an_export_finished_after_a_purge_leaves_no_file(closed, researcher, monkeypatch):
    from django.core.files.storage import default_storage

    import respondents.exports as exports

    def files() -> set[str]:
        return set(default_storage.listdir("exports")[1]) if default_storage.exists("exports") else set()

    export = ExportFile.objects.create(
        questionnaire=closed,
        requested_by=researcher,
        format="xlsx",
        options=ExportOptions(personal_data=True).as_dict(),
    )
    before = files()
    real = exports.write_xlsx

    def writer_overtaken_by_a_purge(*args, **kwargs):  # the owner purges while the worker writes
        rows = real(*args, **kwargs)
        personal_data_purge(questionnaire=closed, actor=researcher)
        return rows

    monkeypatch.setitem(exports.FILE_WRITERS, "xlsx", writer_overtaken_by_a_purge)
    export_file_build(export.pk)
    assert not ExportFile.objects.filter(pk=export.pk).exists()
    assert files() == before  # the file with names was not left behind
