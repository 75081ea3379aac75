"""Respondent pages: thin views over the services, plain templates, no JavaScript required."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from questionnaires.engine.definition import pick_text
from questionnaires.engine.routing import visible_questions
from questionnaires.models import Questionnaire
from questionnaires.selectors import questionnaire_definition

from .models import Invitation, Response
from .presenters import answer_lines, page_conditions, question_views
from .selectors import response_progress
from .services import (
    NotAccepting,
    accepts_answers,
    response_consent,
    response_decline,
    response_save_domain,
    response_set_language,
    response_submit,
)
from .throttle import failed_lookup_record, failed_lookups_exceeded

SESSION_KEY = "respondent_invitation_id"
MAX_FIELDS_PER_PAGE = 2000


def neutral_page(request: HttpRequest, status: int = 404) -> HttpResponse:
    """The same page for an unknown, revoked or closed link: it reveals nothing about which."""
    return render(request, "respondents/neutral.html", status=status)


@never_cache
@require_GET
def link(request: HttpRequest, token: str) -> HttpResponse:
    """Move the token into the session and redirect to a URL without it (no token in Referer or logs).

    A GET changes nothing but the session: mail scanners open every link in an email.
    """
    invitation = Invitation.objects.select_related("questionnaire").filter(token=token[:64]).first()
    if (
        invitation is None
        or invitation.status == Invitation.Status.REVOKED
        or invitation.questionnaire.status != Questionnaire.Status.OPEN
    ):
        # Only failures are throttled: a valid link always gets in, whoever shares its address.
        address = request.client_address
        if failed_lookups_exceeded(address):
            return neutral_page(request, status=429)
        failed_lookup_record(address)
        return neutral_page(request)
    request.session.cycle_key()
    request.session[SESSION_KEY] = invitation.pk
    return redirect("respondents:landing")


def _session_invitation(invitation_id: int) -> Invitation | None:
    # [:1] rather than first(): a primary-key lookup needs no ORDER BY, and this runs on every page.
    rows = Invitation.objects.select_related("questionnaire", "response").filter(pk=invitation_id)[:1]
    return next(iter(rows), None)


def respondent_view(view):
    """Load the session's invitation, its questionnaire and response, and speak the respondent's language."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        invitation_id = request.session.get(SESSION_KEY)
        invitation = _session_invitation(invitation_id) if isinstance(invitation_id, int) else None
        if invitation is None or invitation.status == Invitation.Status.REVOKED:
            return neutral_page(request)
        questionnaire = invitation.questionnaire
        if questionnaire.status not in (Questionnaire.Status.OPEN, Questionnaire.Status.CLOSED):
            return neutral_page(request)
        response = getattr(invitation, "response", None)
        if response is not None:  # the objects already loaded, not one more query each
            response.questionnaire, response.invitation = questionnaire, invitation
        language = (
            (response.language if response else None)
            or request.session.get("respondent_language")
            or invitation.language
        )
        if language not in questionnaire.languages:
            language = questionnaire.default_language
        request.invitation, request.questionnaire, request.response = invitation, questionnaire, response
        with translation.override(language):
            request.LANGUAGE_CODE = language
            result = view(request, *args, **kwargs)
            if hasattr(result, "render") and callable(result.render):
                result.render()
            result.headers.setdefault("Content-Language", language)
            return result

    return never_cache(wrapper)


def _context(request: HttpRequest, **extra) -> dict:
    questionnaire = request.questionnaire
    language = request.LANGUAGE_CODE
    return {
        "questionnaire": questionnaire,
        "invitation": request.invitation,
        "response": request.response,
        "language": language,
        "languages": [(code, _language_name(code)) for code in questionnaire.languages],
        "title": questionnaire.text("title", language),
        **extra,
    }


def _language_name(code: str) -> str:
    try:
        return translation.get_language_info(code)["name_local"]
    except KeyError:
        return code


def _closed_page(request: HttpRequest, status: int = 200) -> HttpResponse:
    opens_at = request.questionnaire.opens_at
    not_yet_open = opens_at is not None and timezone.now() < opens_at
    return render(
        request, "respondents/not_open.html", _context(request, not_yet_open=not_yet_open), status=status
    )


@require_GET
@respondent_view
def landing(request: HttpRequest) -> HttpResponse:
    invitation, response = request.invitation, request.response
    if response is not None and response.is_submitted:
        return redirect("respondents:thanks")
    if invitation.status == Invitation.Status.DECLINED:
        return render(request, "respondents/declined.html", _context(request))
    if not accepts_answers(request.questionnaire):
        return _closed_page(request)
    language = request.LANGUAGE_CODE
    questionnaire = request.questionnaire
    definition = questionnaire_definition(questionnaire)
    return render(
        request,
        "respondents/landing.html",
        _context(
            request,
            introduction=questionnaire.text("introduction", language),
            consent_text=questionnaire.text("consent_text", language),
            organisation=questionnaire.text("organisation", language),
            question_count=len(definition.questions),
            minutes=definition.estimated_minutes,
        ),
    )


@require_POST
@respondent_view
def consent(request: HttpRequest) -> HttpResponse:
    try:
        response_consent(invitation=request.invitation, language=request.LANGUAGE_CODE)
    except NotAccepting:
        return _closed_page(request, status=409)
    return redirect("respondents:resume")


@require_POST
@respondent_view
def decline(request: HttpRequest) -> HttpResponse:
    if request.response is not None and request.response.is_submitted:
        return redirect("respondents:thanks")
    response_decline(invitation=request.invitation)
    return redirect("respondents:landing")


@require_POST
@respondent_view
def set_language(request: HttpRequest) -> HttpResponse:
    language = request.POST.get("language", "")
    if language not in request.questionnaire.languages:
        return HttpResponseBadRequest("Unknown language.")
    request.session["respondent_language"] = language
    if request.response is not None:
        response_set_language(response=request.response, language=language)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ) or not target.startswith("/r/"):
        target = reverse("respondents:landing")
    return redirect(target)


@require_GET
@respondent_view
def resume(request: HttpRequest) -> HttpResponse:
    """Where a returning respondent lands: the first unfinished domain, or the review."""
    response = request.response
    if response is None:
        return redirect("respondents:landing")
    if response.is_submitted:
        return redirect("respondents:thanks")
    progress = response_progress(response)
    if progress.next_domain is None:
        return redirect("respondents:review")
    return redirect("respondents:page", number=_page_number(progress.definition, progress.next_domain.code))


def _page_number(definition, domain_code: str) -> int:
    return definition.page_number_of[domain_code]


@require_http_methods(["GET", "POST"])
@respondent_view
def page(request: HttpRequest, number: int) -> HttpResponse:
    response = request.response
    if response is None:
        return redirect("respondents:landing")
    if response.is_submitted:
        if request.method == "POST":
            return render(request, "respondents/already_submitted.html", _context(request), status=409)
        return redirect("respondents:thanks")
    if not accepts_answers(request.questionnaire):
        return _closed_page(request, status=409 if request.method == "POST" else 200)
    definition = questionnaire_definition(request.questionnaire)
    if not 1 <= number <= len(definition.domains):
        return neutral_page(request)
    domain = definition.domains[number - 1]

    submitted, errors = None, {}
    if request.method == "POST":
        if len(request.POST) > MAX_FIELDS_PER_PAGE:
            return HttpResponseBadRequest("Too many fields.")
        submitted = {key: request.POST.getlist(key) for key in request.POST if key != "csrfmiddlewaretoken"}
        try:
            result = response_save_domain(
                response=response,
                domain_code=domain.code,
                submitted=submitted,
                enforce_required=request.POST.get("_action") != "back",
            )
        except NotAccepting:
            return render(request, "respondents/already_submitted.html", _context(request), status=409)
        if result.ok:
            return _after_save(request, response, domain, result.answers, number)
        errors = result.errors

    progress = response_progress(response)
    if domain.code not in {visible.code for visible in progress.domains}:
        # A domain hidden by earlier answers is skipped.
        following = next((d for d in progress.domains if _page_number(definition, d.code) > number), None)
        if following is None:
            return redirect("respondents:review")
        return redirect("respondents:page", number=_page_number(definition, following.code))
    answers = progress.answers
    views = question_views(
        definition=definition,
        domain=domain,
        answers=answers,
        language=request.LANGUAGE_CODE,
        submitted=submitted,
        errors=errors,
    )
    previous = progress.previous_domain(domain)
    context = _context(
        request,
        domain=domain,
        domain_title=_domain_text(definition, domain, "title", request.LANGUAGE_CODE),
        domain_description=_domain_text(definition, domain, "description", request.LANGUAGE_CODE),
        questions=views,
        error_list=[view for view in views if view.error],
        position=progress.position_of(domain),
        total=progress.total,
        number=number,
        has_previous=previous is not None,
        shown=",".join(view.code for view in views if view.visible),
        conditions=page_conditions(definition, domain, answers),
    )
    return render(request, "respondents/page.html", context, status=400 if errors else 200)


def _domain_text(definition, domain, field: str, language: str) -> str:
    return pick_text(getattr(domain, field), language, definition.languages)


def _after_save(request: HttpRequest, response: Response, domain, answers, number: int) -> HttpResponse:
    progress = response_progress(response, answers=answers)
    definition = progress.definition
    shown = set(filter(None, request.POST.get("_shown", "").split(",")))
    now_visible = {question.code for question in visible_questions(definition, domain, answers)}
    if now_visible - shown:
        # Without JavaScript, follow-up questions appear once the answers they depend on are saved.
        messages.info(request, _("Your answers are saved. Some follow-up questions have appeared below."))
        return redirect("respondents:page", number=number)
    if request.POST.get("_action") == "back":
        previous = progress.previous_domain(domain)
        if previous is not None:
            return redirect("respondents:page", number=_page_number(definition, previous.code))
    following = progress.following_domain(domain)
    if following is None:
        return redirect("respondents:review")
    return redirect("respondents:page", number=_page_number(definition, following.code))


@require_GET
@respondent_view
def review(request: HttpRequest) -> HttpResponse:
    response = request.response
    if response is None:
        return redirect("respondents:landing")
    if response.is_submitted:
        return redirect("respondents:thanks")
    progress = response_progress(response)
    return render(
        request,
        "respondents/review.html",
        _context(
            request,
            sections=_sections(progress, request.LANGUAGE_CODE),
            complete=progress.next_domain is None,
            accepting=accepts_answers(request.questionnaire),
        ),
    )


def _sections(progress, language: str) -> list[dict]:
    definition = progress.definition
    return [
        {
            "title": _domain_text(definition, domain, "title", language),
            "number": _page_number(definition, domain.code),
            "lines": answer_lines(definition, domain, progress.answers, language),
            "unfinished": progress.next_domain is not None and domain.code == progress.next_domain.code,
        }
        for domain in progress.domains
    ]


@require_POST
@respondent_view
def submit(request: HttpRequest) -> HttpResponse:
    response = request.response
    if response is None:
        return redirect("respondents:landing")
    try:
        response_submit(response=response)
    except NotAccepting:
        return _closed_page(request, status=409)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("respondents:review")
    return redirect("respondents:thanks")


@require_GET
@respondent_view
def thanks(request: HttpRequest) -> HttpResponse:
    response = request.response
    if response is None or not response.is_submitted:
        return redirect("respondents:landing")
    progress = response_progress(response)
    return render(
        request,
        "respondents/thanks.html",
        _context(
            request,
            sections=_sections(progress, request.LANGUAGE_CODE),
        ),
    )
