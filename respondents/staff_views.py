"""Researchers' pages for a questionnaire's invitations and their recruitment chains."""

from collections import Counter

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from consultation.audit import audit_record
from consultation.models import AuditEntry
from questionnaires.access import questionnaire_action_required
from questionnaires.models import Questionnaire
from questionnaires.permissions import Action
from questionnaires.services import questionnaire_set_reminder_policy

from .forms import AddressForm, BounceForm, ReminderPolicyForm, SeedCsvForm, SeedForm
from .models import Invitation, Nomination
from .reminders import reminders_due_count, reminders_preview, reminders_send_now
from .selectors import chain_summaries, nomination_counts
from .services import (
    CsvError,
    InvitationErased,
    InvitationError,
    invitation_correct_address,
    invitation_mark_bounced,
    seed_invite,
    seeds_import_csv,
)
from .services import invitation_resend as invitation_resend_service
from .services import invitation_revoke as invitation_revoke_service

PAGE_SIZE = 100


def _shows_personal_data(request, questionnaire: Questionnaire, page_name: str, invitations) -> bool:
    """Names and emails only for those allowed, and every showing of them goes to the audit log."""
    if Action.VIEW_PERSONAL_DATA not in request.questionnaire_actions:
        return False
    audit_record(
        actor=request.user,
        action=AuditEntry.Action.PERSONAL_DATA_VIEWED,
        target=questionnaire,
        questionnaire=questionnaire,
        detail={"page": page_name, "invitations": [invitation.label for invitation in invitations]},
    )
    return True


def _page(
    request, questionnaire: Questionnaire, *, seed_form=None, csv_form=None, csv_problems=(), status=200
):
    invitations = (
        Invitation.objects.filter(questionnaire=questionnaire)
        .select_related("nominated_by")
        .order_by("number")
    )
    page = Paginator(invitations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "respondents/staff/invitations.html",
        {
            "questionnaire": questionnaire,
            "page": page,
            "can_remind": Action.REMIND in request.questionnaire_actions,
            "show_personal": _shows_personal_data(request, questionnaire, "invitations", page),
            "seed_form": seed_form or SeedForm(languages=questionnaire.languages),
            "csv_form": csv_form or SeedCsvForm(),
            "csv_problems": csv_problems,
        },
        status=status,
    )


@questionnaire_action_required(Action.INVITE)
def invitations(request, questionnaire: Questionnaire):
    if request.method != "POST":
        return _page(request, questionnaire)
    form = SeedForm(request.POST, languages=questionnaire.languages)
    if form.is_valid():
        try:
            invitation = seed_invite(questionnaire=questionnaire, actor=request.user, **form.cleaned_data)
        except InvitationError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Invited {invitation.label}; the email is in the outbox.")
            return redirect("respondents_staff:invitations", slug=questionnaire.slug)
    return _page(request, questionnaire, seed_form=form, status=400)


@require_POST
@questionnaire_action_required(Action.INVITE)
def invitations_upload(request, questionnaire: Questionnaire):
    form = SeedCsvForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, questionnaire, csv_form=form, status=400)
    try:
        created = seeds_import_csv(
            questionnaire=questionnaire, text=form.cleaned_data["file"], actor=request.user
        )
    except CsvError as error:
        return _page(request, questionnaire, csv_form=form, csv_problems=error.problems, status=400)
    messages.success(request, f"Invited {len(created)} seed(s); their emails are in the outbox.")
    return redirect("respondents_staff:invitations", slug=questionnaire.slug)


@require_GET
@questionnaire_action_required(Action.VIEW)
def invitation_detail(request, questionnaire: Questionnaire, number: int):
    """One invitation's place in its chain: who nominated it, whom it nominated, what became of it."""
    return invitation_detail_page(request, questionnaire, _invitation_of(questionnaire, number))


def invitation_detail_page(
    request, questionnaire: Questionnaire, invitation: Invitation, *, address_form=None, status=200
):
    invitation = Invitation.objects.select_related("nominated_by", "seed").get(pk=invitation.pk)
    nominees = list(invitation.nominees.order_by("number"))
    outcomes = Counter(invitation.nominations.values_list("outcome", flat=True))
    return render(
        request,
        "respondents/staff/invitation.html",
        {
            "questionnaire": questionnaire,
            "invitation": invitation,
            "nominees": nominees,
            "outcomes": [(label, outcomes[value]) for value, label in Nomination.Outcome.choices],
            "events": invitation.events.all(),
            "messages_sent": invitation.outbox.order_by("created_at", "id"),
            "can_invite": Action.INVITE in request.questionnaire_actions,
            "can_erase": Action.PURGE_PERSONAL_DATA in request.questionnaire_actions,
            "address_form": address_form or AddressForm(),
            "bounce_form": BounceForm(),
            "show_personal": _shows_personal_data(
                request, questionnaire, "invitation", [invitation, *nominees]
            ),
        },
        status=status,
    )


@require_GET
@questionnaire_action_required(Action.VIEW)
def chains(request, questionnaire: Questionnaire):
    """Every seed with its chain's size, depth and completions."""
    seeds = Invitation.objects.filter(questionnaire=questionnaire, wave=0).order_by("number")
    page = Paginator(seeds, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "respondents/staff/chains.html",
        {
            "questionnaire": questionnaire,
            "page": page,
            "chains": chain_summaries(questionnaire, list(page)),
            "nominations": nomination_counts(questionnaire),
            "outcome_labels": dict(Nomination.Outcome.choices),
            "show_personal": _shows_personal_data(request, questionnaire, "chains", page),
        },
    )


# --- Re-send, correct, revoke, bounce; reminders ------------------------------------------------


def _invitation_of(questionnaire: Questionnaire, number: int) -> Invitation:
    return get_object_or_404(Invitation, questionnaire=questionnaire, number=number)


def _action(request, questionnaire: Questionnaire, number: int, act, done: str):
    invitation = _invitation_of(questionnaire, number)
    try:
        act(invitation)
    except InvitationErased as error:
        messages.error(request, str(error))
        return invitation_detail_page(request, questionnaire, invitation, status=409)
    except InvitationError as error:
        messages.error(request, str(error))
        return invitation_detail_page(request, questionnaire, invitation, status=400)
    messages.success(request, done.format(label=invitation.label))
    return redirect("respondents_staff:invitation", slug=questionnaire.slug, number=number)


@require_POST
@questionnaire_action_required(Action.INVITE)
def invitation_resend(request, questionnaire: Questionnaire, number: int):
    return _action(
        request,
        questionnaire,
        number,
        lambda invitation: invitation_resend_service(invitation=invitation, actor=request.user),
        "The invitation to {label} is in the outbox again.",
    )


@require_POST
@questionnaire_action_required(Action.INVITE)
def invitation_address(request, questionnaire: Questionnaire, number: int):
    form = AddressForm(request.POST)
    if not form.is_valid():
        invitation = _invitation_of(questionnaire, number)
        return invitation_detail_page(request, questionnaire, invitation, address_form=form, status=400)
    return _action(
        request,
        questionnaire,
        number,
        lambda invitation: invitation_correct_address(
            invitation=invitation, email=form.cleaned_data["email"], actor=request.user
        ),
        "{label}'s address is corrected and the invitation is in the outbox.",
    )


@require_POST
@questionnaire_action_required(Action.INVITE)
def invitation_revoke(request, questionnaire: Questionnaire, number: int):
    return _action(
        request,
        questionnaire,
        number,
        lambda invitation: invitation_revoke_service(invitation=invitation, actor=request.user),
        "{label} is revoked: the link opens nothing and no more email goes out.",
    )


@require_POST
@questionnaire_action_required(Action.PURGE_PERSONAL_DATA)
def invitation_erase(request, questionnaire: Questionnaire, number: int):
    """An owner erases one respondent on their request (the right to erasure)."""
    from .privacy import respondent_erase

    if request.POST.get("confirm") != "erase":
        messages.error(request, "Tick the confirmation to erase: nothing was erased.")
        return redirect("respondents_staff:invitation", slug=questionnaire.slug, number=number)
    return _action(
        request,
        questionnaire,
        number,
        lambda invitation: respondent_erase(invitation=invitation, actor=request.user),
        "{label}'s answers and contact details are erased; the chain keeps an anonymous node.",
    )


@require_POST
@questionnaire_action_required(Action.INVITE)
def invitation_bounced(request, questionnaire: Questionnaire, number: int):
    form = BounceForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _action(
        request,
        questionnaire,
        number,
        lambda invitation: invitation_mark_bounced(invitation=invitation, reason=reason, actor=request.user),
        "{label}'s address is marked as bouncing: nothing more is sent to it.",
    )


@require_POST
@questionnaire_action_required(Action.REMIND)
def invitations_remind(request, questionnaire: Questionnaire):
    """ "Remind now" for the invitations ticked on the list."""
    try:
        ids = sorted({int(value) for value in request.POST.getlist("invitation")})
    except ValueError:
        return HttpResponseBadRequest("Invitations are named by number.")
    if not ids or len(ids) > PAGE_SIZE:
        messages.error(request, f"Tick between 1 and {PAGE_SIZE} invitations to remind.")
        return redirect("respondents_staff:invitations", slug=questionnaire.slug)
    # The service keeps to this questionnaire's invitations: ids from elsewhere are simply not reminded.
    queued = reminders_send_now(questionnaire=questionnaire, invitation_ids=ids, actor=request.user)
    skipped = len(ids) - queued
    messages.success(
        request,
        f"Queued {queued} reminder(s)."
        + (f" {skipped} of those ticked cannot be reminded (finished, declined, revoked, opted out, "
           "or the address failed)." if skipped else ""),
    )  # fmt: skip
    return redirect("respondents_staff:invitations", slug=questionnaire.slug)


@questionnaire_action_required(Action.REMIND)
def reminder_policy(request, questionnaire: Questionnaire):
    """When reminders go out, and who would be reminded if the scan ran now."""
    if request.method == "POST":
        form = ReminderPolicyForm(request.POST, time_zone=questionnaire.time_zone)
        if form.is_valid():
            questionnaire_set_reminder_policy(
                questionnaire=questionnaire, policy=form.policy(), actor=request.user
            )
            messages.success(request, "Reminder settings saved.")
            return redirect("respondents_staff:reminders", slug=questionnaire.slug)
        status = 400
    else:
        form = ReminderPolicyForm(
            initial=ReminderPolicyForm.initial_from(questionnaire.reminder_policy),
            time_zone=questionnaire.time_zone,
        )
        status = 200
    reason, due = reminders_preview(questionnaire, limit=PAGE_SIZE)
    return render(
        request,
        "respondents/staff/reminders.html",
        {
            "questionnaire": questionnaire,
            "form": form,
            "reason": reason,
            "due": due,
            "due_count": reminders_due_count(questionnaire),
        },
        status=status,
    )
