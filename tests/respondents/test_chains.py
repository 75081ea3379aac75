"""Researchers see the recruitment chains: pseudonyms for everyone, names only with that right, audited."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consultation.models import AuditEntry
from questionnaires.services import membership_set
from respondents.models import Invitation
from respondents.recruitment import Peer, nominations_create, referral_links_create
from respondents.selectors import chain_summaries
from respondents.services import response_decline, seed_invite
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def declined(invitation: Invitation) -> Invitation:
    return response_decline(invitation=invitation)  # a decliner may nominate: the quickest nominator


@pytest.fixture
def chain(open_questionnaire, researcher, invitation):
    """Ana (seed) → Ben (wave 1) → Cleo (wave 2), and a referral link from Ana; Dan is a lone seed."""
    (ben,) = (
        n.invitation
        for n in nominations_create(
            nominator=declined(invitation),
            peers=[Peer(email="ben@example.gov", name="Ben Peer", country="FR", language="en")],
        )
    )
    (cleo,) = (
        n.invitation
        for n in nominations_create(
            nominator=declined(ben), peers=[Peer(email="cleo@example.gov", name="Cleo", language="fr")]
        )
    )
    referral_links_create(nominator=invitation, count=1, language="en")
    dan = seed_invite(questionnaire=open_questionnaire, email="dan@example.gov", actor=researcher)
    return invitation, ben, cleo, dan


def test_chain_size_and_depth_come_from_one_aggregate(chain, open_questionnaire):
    ana, _ben, cleo, dan = chain
    with CaptureQueriesContext(connection) as queries:
        summaries = chain_summaries(open_questionnaire, [ana, dan])
    assert len(queries) == 1
    assert [(s.seed, s.size, s.depth) for s in summaries] == [(ana, 4, 2), (dan, 1, 0)]
    assert (cleo.seed, cleo.wave) == (ana, 2)


def member_client(client_for, questionnaire, role: str, personal: bool = False):
    user = UserFactory()
    membership_set(
        questionnaire=questionnaire, user=user, role=role, can_view_personal_data=personal, actor=None
    )
    return client_for(user)


def test_the_chains_page_lists_seeds_with_pseudonyms_for_a_monitor(chain, open_questionnaire, client_for):
    monitor = member_client(client_for, open_questionnaire, "monitor")
    html = monitor.get(f"/q/{open_questionnaire.slug}/invitations/chains/").content.decode()
    assert "R-0001 · Canada" in html
    assert "Ana Official" not in html and "ana@example.gov" not in html
    assert "Refused: already invited" in html
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.PERSONAL_DATA_VIEWED).exists()


def test_an_invitation_page_shows_its_nominator_and_nominees(chain, open_questionnaire, client_for):
    ana, ben, cleo, _dan = chain
    researcher = member_client(client_for, open_questionnaire, "researcher")
    html = researcher.get(f"/q/{open_questionnaire.slug}/invitations/{ben.number}/").content.decode()
    assert f"R-{ana.number:04d} · Canada" in html  # nominated by
    assert f"R-{cleo.number:04d}" in html  # nominated
    assert "Ben Peer" not in html and "cleo@example.gov" not in html


def test_names_and_emails_need_the_right_and_their_viewing_is_audited(chain, open_questionnaire, client_for):
    _ana, ben, cleo, _dan = chain
    allowed = member_client(client_for, open_questionnaire, "researcher", personal=True)
    html = allowed.get(f"/q/{open_questionnaire.slug}/invitations/{ben.number}/").content.decode()
    assert "Ben Peer" in html and "cleo@example.gov" in html
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PERSONAL_DATA_VIEWED)
    assert entry.detail == {"page": "invitation", "invitations": [ben.label, cleo.label]}
    allowed.get(f"/q/{open_questionnaire.slug}/invitations/chains/")
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PERSONAL_DATA_VIEWED).count() == 2


def test_another_questionnaires_invitation_is_not_found(chain, open_questionnaire, client_for):
    from tests.factories import QuestionnaireFactory

    other = QuestionnaireFactory()
    owner = member_client(client_for, other, "owner")
    assert owner.get(f"/q/{other.slug}/invitations/1/").status_code == 404


def test_the_chains_page_does_not_grow_queries_with_seeds(
    chain, open_questionnaire, client_for, django_assert_max_num_queries
):
    monitor = member_client(client_for, open_questionnaire, "monitor")
    url = f"/q/{open_questionnaire.slug}/invitations/chains/"
    monitor.get(url)
    for number in range(20):
        seed_invite(questionnaire=open_questionnaire, email=f"s{number}@example.gov", actor=None)
    with django_assert_max_num_queries(12):
        assert monitor.get(url).status_code == 200
