"""Researchers' pages for a questionnaire's invitations."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from questionnaires.access import questionnaire_action_required
from questionnaires.models import Questionnaire
from questionnaires.permissions import Action

from .forms import SeedCsvForm, SeedForm
from .models import Invitation
from .services import CsvError, InvitationError, seed_invite, seeds_import_csv

PAGE_SIZE = 100


def _page(
    request, questionnaire: Questionnaire, *, seed_form=None, csv_form=None, csv_problems=(), status=200
):
    invitations = Invitation.objects.filter(questionnaire=questionnaire).order_by("number")
    page = Paginator(invitations, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "respondents/staff/invitations.html",
        {
            "questionnaire": questionnaire,
            "page": page,
            "show_personal": Action.VIEW_PERSONAL_DATA in request.questionnaire_actions,
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
