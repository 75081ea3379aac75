"""Researchers' pages for a questionnaire's invitations and their recruitment chains."""

from collections import Counter

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from consultation.audit import audit_record
from consultation.models import AuditEntry
from questionnaires.access import questionnaire_action_required
from questionnaires.models import Questionnaire
from questionnaires.permissions import Action

from .forms import SeedCsvForm, SeedForm
from .models import Invitation, Nomination
from .selectors import chain_summaries, nomination_counts
from .services import CsvError, InvitationError, seed_invite, seeds_import_csv

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
    invitation = get_object_or_404(
        Invitation.objects.select_related("nominated_by", "seed"), questionnaire=questionnaire, number=number
    )
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
            "show_personal": _shows_personal_data(
                request, questionnaire, "invitation", [invitation, *nominees]
            ),
        },
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
