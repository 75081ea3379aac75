"""Writes for the snowball: nominations, referral links, and opting out of all email.

Nominations are refused quietly: the nominator sees the same thanks whether a peer was invited,
already invited, or had opted out, so the platform never tells anyone who else takes part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from consultation.prepared import PreparedQuery
from questionnaires.models import Questionnaire

from .models import Invitation, InvitationEvent, Nomination, OptOut, OutboxMessage, normalise_email
from .selectors import email_hash, opted_out_among
from .services import invitation_create, invitation_numbers_reserve


class NominationError(ValueError):
    """The nomination cannot be taken at all (not allowed now, or past the quota); nothing is stored."""


@dataclass(frozen=True)
class Peer:
    email: str
    language: str
    name: str = ""
    organisation: str = ""
    country: str = ""
    role: str = ""
    may_name_nominator: bool = False


# --- Opt-out ------------------------------------------------------------------------------------


@transaction.atomic
def opt_out_address(email: str, *, now=None) -> None:
    """Never email this address again, from any questionnaire (a complaint about an address an
    invitation no longer uses lands here too)."""
    now = now or timezone.now()
    OptOut.objects.bulk_create([OptOut(email_hash=email_hash(email))], ignore_conflicts=True)
    # Every invitation of this address, in any questionnaire, leaves the reminder scan ...
    Invitation.objects.filter(email_normalised=normalise_email(email), opted_out_at__isnull=True).update(
        opted_out_at=now
    )
    # ... and whatever is still waiting for it is not sent.
    OutboxMessage.objects.filter(status=OutboxMessage.Status.PENDING, to_email__iexact=email.strip()).update(
        status=OutboxMessage.Status.CANCELLED, last_error="opted out"
    )


@transaction.atomic
def opt_out(*, invitation: Invitation) -> None:
    """Never email this invitation's address again, from any questionnaire. Twice is once.

    An invitee who had not yet consented has, in effect, declined; one who has started may still
    finish with the link they hold.
    """
    invitation = Invitation.objects.select_for_update(no_key=True).get(pk=invitation.pk)
    if invitation.status == Invitation.Status.ERASED:
        return  # no address is left to protect, and nothing more is recorded about the person
    now = timezone.now()
    if invitation.email:
        opt_out_address(invitation.email, now=now)
    if not invitation.events.filter(kind=InvitationEvent.Kind.OPTED_OUT).exists():
        InvitationEvent.objects.create(invitation=invitation, kind=InvitationEvent.Kind.OPTED_OUT)
    if invitation.status in (Invitation.Status.CREATED, Invitation.Status.EMAILED):
        invitation.status, invitation.declined_at = Invitation.Status.DECLINED, now
        invitation.save(update_fields=["status", "declined_at"])
        InvitationEvent.objects.create(
            invitation=invitation, kind=InvitationEvent.Kind.DECLINED, detail={"via": "opt-out"}
        )


# --- Nominations --------------------------------------------------------------------------------


def may_nominate(invitation: Invitation) -> bool:
    """Respondents who submitted, and invitees who declined, may point to peers while the
    questionnaire is open. Someone who came by a forwarded link must have answered: refusing
    through one, then forwarding more, would let anyone grow a chain of strangers unanswered."""
    from .services import accepts_answers

    allowed = (
        (Invitation.Status.COMPLETED,)
        if invitation.channel == Invitation.Channel.REFERRAL
        else (Invitation.Status.COMPLETED, Invitation.Status.DECLINED)
    )
    return (
        invitation.questionnaire.nomination_quota > 0
        and invitation.status in allowed
        and accepts_answers(invitation.questionnaire)
    )


# Read on every thank-you page: compiled once (consultation/prepared.py).
_NOMINATIONS_MADE = PreparedQuery(
    lambda nominator_id: (
        Nomination.objects.filter(nominator_id=nominator_id)
        .order_by()
        .values("nominator_id")
        .annotate(made=Count("id"))
        .values_list("made")
    )
)


def nominations_left(invitation: Invitation) -> int:
    rows = _NOMINATIONS_MADE.rows(invitation.pk)
    used = rows[0][0] if rows else 0
    return max(0, invitation.questionnaire.nomination_quota - used)


def _locked_nominator(nominator: Invitation, wanted: int) -> tuple[Invitation, Questionnaire]:
    """Lock the nominator's row (the quota's guard), check the quota, then lock the questionnaire."""
    nominator = (
        # NO KEY: a chain member nominating meanwhile inserts rows pointing at this one (their seed)
        # and needs a key-share lock on it; FOR UPDATE would deadlock with the questionnaire lock.
        Invitation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("questionnaire")
        .get(pk=nominator.pk)
    )
    if not may_nominate(nominator):
        raise NominationError("This invitation cannot nominate anyone now.")
    if wanted < 1 or wanted > nominations_left(nominator):
        raise NominationError("That is more nominations than are left.")
    return nominator, nominator.questionnaire


def _chain_fields(nominator: Invitation) -> dict:
    return {
        "wave": nominator.wave + 1,
        "nominated_by": nominator,
        "seed_id": nominator.seed_id or nominator.pk,
    }


@transaction.atomic
def nominations_create(*, nominator: Invitation, peers: Sequence[Peer]) -> list[Nomination]:
    """Invite each peer one wave further down the chain, or record quietly why not.

    The caller has validated each peer (address, country, language) and refused duplicates
    within the submission; what is checked here is what the nominator must not learn.
    """
    nominator, questionnaire = _locked_nominator(nominator, len(peers))
    wanted = [normalise_email(peer.email) for peer in peers]
    if len(set(wanted)) != len(wanted):
        raise NominationError("The same address appears twice.")
    # The questionnaire's row lock (taken by invitation_numbers_reserve) serialises every writer
    # of its invitations, so the "already invited" check below cannot race another nominator.
    numbers = iter(invitation_numbers_reserve(questionnaire, len(peers)))
    already = set(
        Invitation.objects.filter(questionnaire=questionnaire, email_normalised__in=wanted).values_list(
            "email_normalised", flat=True
        )
    )
    opted_out = opted_out_among(wanted)
    nominations = []
    for peer, address in zip(peers, wanted, strict=True):
        if address == nominator.email_normalised:
            outcome = Nomination.Outcome.SELF
        elif address in opted_out:
            outcome = Nomination.Outcome.OPTED_OUT
        elif address in already:
            outcome = Nomination.Outcome.ALREADY_INVITED
        else:
            outcome = Nomination.Outcome.INVITED
        invitation = None
        if outcome == Nomination.Outcome.INVITED:
            invitation = invitation_create(
                questionnaire=questionnaire,
                number=next(numbers),
                email=peer.email.strip(),
                name=peer.name.strip(),
                organisation=peer.organisation.strip(),
                role=peer.role.strip(),
                country=peer.country,
                language=peer.language,
                nominator_may_be_named=peer.may_name_nominator,
                **_chain_fields(nominator),
            )
        nominations.append(Nomination(nominator=nominator, outcome=outcome, invitation=invitation))
    return Nomination.objects.bulk_create(nominations)


@transaction.atomic
def referral_links_create(*, nominator: Invitation, count: int, language: str) -> list[Invitation]:
    """Invitations with no contact details, for the nominator to forward ("I will forward it myself")."""
    nominator, questionnaire = _locked_nominator(nominator, count)
    language = language if language in questionnaire.languages else questionnaire.default_language
    invitations = [
        invitation_create(
            questionnaire=questionnaire,
            number=number,
            channel=Invitation.Channel.REFERRAL,
            language=language,
            **_chain_fields(nominator),
        )
        for number in invitation_numbers_reserve(questionnaire, count)
    ]
    Nomination.objects.bulk_create(
        Nomination(nominator=nominator, outcome=Nomination.Outcome.REFERRAL, invitation=invitation)
        for invitation in invitations
    )
    return invitations


_PENDING_REFERRALS = PreparedQuery(
    lambda nominator_id: (
        Invitation.objects.filter(
            nominated_by_id=nominator_id, channel=Invitation.Channel.REFERRAL, claimed_at__isnull=True
        )
        .order_by("number")
        .values_list("id", "number", "token")
    )
)


def referral_links_pending(nominator: Invitation) -> list[Invitation]:
    """The nominator's forwarded links that nobody has taken up yet (taken ones open nothing now),
    with their number and token."""
    return [
        Invitation.from_db("default", ["id", "number", "token"], row)
        for row in _PENDING_REFERRALS.rows(nominator.pk)
    ]
