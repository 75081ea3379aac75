from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consultation.audit import audit_record
from consultation.models import AuditEntry

from .access import questionnaire_action_required
from .definition_format import document_to_json, dumps
from .forms import MemberForm, StatusForm
from .models import Membership, Questionnaire
from .permissions import Action
from .selectors import questionnaire_document
from .services import (
    ALLOWED_TRANSITIONS,
    membership_remove,
    membership_set,
    questionnaire_open_problems,
    questionnaire_set_status,
)


@login_required
@require_GET
def home(request):
    questionnaires = Questionnaire.objects.for_user(request.user).annotate(
        domain_count=Count("domains", distinct=True), question_count=Count("questions", distinct=True)
    )
    roles = dict(Membership.objects.filter(user=request.user).values_list("questionnaire_id", "role"))
    rows = [(questionnaire, roles.get(questionnaire.pk, "superuser")) for questionnaire in questionnaires]
    return render(request, "questionnaires/home.html", {"rows": rows})


@require_GET
@questionnaire_action_required(Action.VIEW)
def questionnaire_detail(request, questionnaire: Questionnaire):
    domains = questionnaire.domains.annotate(question_count=Count("questions"))
    members = questionnaire.memberships.select_related("user")
    can_change_status = Action.CHANGE_STATUS in request.questionnaire_actions
    context = {
        "questionnaire": questionnaire,
        "domains": domains,
        "members": members,
        "actions": request.questionnaire_actions,
        "Action": Action,
        "next_statuses": sorted(ALLOWED_TRANSITIONS[questionnaire.status]) if can_change_status else [],
        "problems": questionnaire_open_problems(questionnaire) if questionnaire.status == "draft" else [],
    }
    return render(request, "questionnaires/detail.html", context)


@require_POST
@questionnaire_action_required(Action.CHANGE_STATUS)
def questionnaire_status(request, questionnaire: Questionnaire):
    form = StatusForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Unknown status.", status=400)
    try:
        questionnaire_set_status(
            questionnaire=questionnaire, status=form.cleaned_data["status"], actor=request.user
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"The questionnaire is now {form.cleaned_data['status']}.")
    back = request.POST.get("next", "")
    if back.startswith(f"/author/{questionnaire.slug}/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}
    ):
        return redirect(back)  # from the authoring page
    return redirect(questionnaire)


@require_GET
@questionnaire_action_required(Action.AUTHOR)
def questionnaire_definition_download(request, questionnaire: Questionnaire):
    body = dumps(document_to_json(questionnaire_document(questionnaire)))
    audit_record(
        actor=request.user,
        action=AuditEntry.Action.QUESTIONNAIRE_EXPORTED,
        target=questionnaire,
        questionnaire=questionnaire,
    )
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{questionnaire.slug}.json"'
    return response


@questionnaire_action_required(Action.MANAGE_MEMBERS)
def questionnaire_members(request, questionnaire: Questionnaire):
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership_set(
                questionnaire=questionnaire,
                user=form.cleaned_data["username"],
                role=form.cleaned_data["role"],
                can_view_personal_data=form.cleaned_data["can_view_personal_data"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Member saved.")
            return redirect("questionnaires:members", slug=questionnaire.slug)
    members = questionnaire.memberships.select_related("user")
    return render(
        request,
        "questionnaires/members.html",
        {"questionnaire": questionnaire, "members": members, "form": form},
        status=400 if form.errors else 200,
    )


@require_POST
@questionnaire_action_required(Action.MANAGE_MEMBERS)
def questionnaire_member_remove(request, questionnaire: Questionnaire, membership_id: int):
    membership = get_object_or_404(Membership, pk=membership_id, questionnaire=questionnaire)
    try:
        membership_remove(membership=membership, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "Member removed.")
    return redirect("questionnaires:members", slug=questionnaire.slug)


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.PURGE_PERSONAL_DATA)
def questionnaire_purge(request, questionnaire: Questionnaire):
    """Owners remove every invitee's personal data once the questionnaire is closed: the dry run
    first, then a confirmation that names the questionnaire."""
    from respondents.privacy import personal_data_purge, personal_data_report, purge_refusal

    refusal = purge_refusal(questionnaire)
    if request.method == "POST" and not refusal:
        if request.POST.get("confirm", "").strip() != questionnaire.slug:
            messages.error(
                request, "Type the questionnaire's address exactly to confirm: nothing was purged."
            )
        else:
            try:
                personal_data_purge(questionnaire=questionnaire, actor=request.user)
            except ValidationError as error:
                refusal = " ".join(error.messages)
            else:
                messages.success(request, "The invitees' names and addresses were purged.")
                return redirect(questionnaire)
    return render(
        request,
        "questionnaires/purge.html",
        {"questionnaire": questionnaire, "report": personal_data_report(questionnaire), "refusal": refusal},
        status=409 if refusal and request.method == "POST" else 200,
    )
