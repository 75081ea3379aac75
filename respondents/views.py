"""Respondent pages: thin views over the services, plain templates, no JavaScript required."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consultation.jinja2 import url
from consultation.middleware import RESPONDENT_SESSION_KEY, session_seen
from questionnaires.engine.definition import pick_text
from questionnaires.engine.routing import visible_questions
from questionnaires.models import Questionnaire
from questionnaires.selectors import questionnaire_definition

from .emails import invitation_link
from .forms import peer_formset
from .models import Invitation, Response
from .presenters import (
    answer_lines,
    country_choices,
    nominations_left_text,
    opening_time,
    page_conditions,
    question_count_text,
    question_views,
)
from .recruitment import (
    NominationError,
    Peer,
    may_nominate,
    nominations_create,
    nominations_left,
    opt_out,
    referral_links_create,
    referral_links_pending,
)
from .selectors import link_invitation, respondent_invitation, response_progress
from .services import (
    LinkReplaced,
    NotAccepting,
    PageChanged,
    accepts_answers,
    response_consent,
    response_decline,
    response_save_domain,
    response_set_language,
    response_submit,
    saved_stamp,
)
from .throttle import failed_lookup_record, failed_lookups_exceeded
from .widgets import blank_peer_fieldsets, peer_fieldsets

# What Django's never_cache sets, written once: its Expires (now, formatted on every response) and
# the parsing of Cache-Control took 2% of the CPU of a respondent's request. No respondent page sets
# either header itself.
NEVER_CACHE_HEADERS = {
    "Cache-Control": "max-age=0, no-cache, no-store, must-revalidate, private",
    "Expires": "Thu, 01 Jan 1970 00:00:00 GMT",
}
SESSION_KEY = RESPONDENT_SESSION_KEY  # the idle-session check (consultation/middleware.py) reads it too
SESSION_TOKEN_KEY = "respondent_token"
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
    invitation = link_invitation(token[:64])
    if (
        invitation is None
        or invitation.status in (Invitation.Status.REVOKED, Invitation.Status.ERASED)
        or invitation.questionnaire.status != Questionnaire.Status.OPEN
    ):
        # Only failures are throttled: a valid link always gets in, whoever shares its address.
        address = request.client_address
        if failed_lookups_exceeded(address):
            return neutral_page(request, status=429)
        failed_lookup_record(address)
        return neutral_page(request)
    if request.session.session_key is not None:
        request.session.cycle_key()  # a session someone may have planted is not taken over
    _session_open(request, invitation)
    return redirect("respondents:landing")


def _session_open(request: HttpRequest, invitation: Invitation) -> None:
    # The token is kept beside the id: replacing an invitation's token (a referral link taken up)
    # closes every session opened with the old one.
    request.session[SESSION_KEY] = invitation.pk
    request.session[SESSION_TOKEN_KEY] = invitation.token
    session_seen(request.session)


def respondent_view(view):
    """Load the session's invitation, its questionnaire and response, and speak the respondent's language."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        result = respondent(request, *args, **kwargs)
        for header, value in NEVER_CACHE_HEADERS.items():
            result.headers[header] = value
        return result

    def respondent(request: HttpRequest, *args, **kwargs):
        invitation_id = request.session.get(SESSION_KEY)
        invitation = respondent_invitation(invitation_id) if isinstance(invitation_id, int) else None
        legacy = invitation is not None and SESSION_TOKEN_KEY not in request.session
        if legacy and invitation.channel == Invitation.Channel.EMAIL:
            # A session opened before links were bound to their token: emailed links never change.
            request.session[SESSION_TOKEN_KEY] = invitation.token
        if (
            invitation is None
            or invitation.status in (Invitation.Status.REVOKED, Invitation.Status.ERASED)
            or not constant_time_compare(request.session.get(SESSION_TOKEN_KEY, ""), invitation.token)
        ):
            return neutral_page(request)
        questionnaire = invitation.questionnaire
        if questionnaire.status not in (Questionnaire.Status.OPEN, Questionnaire.Status.CLOSED):
            return neutral_page(request)
        response = getattr(invitation, "response", None)  # None before consent
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

    return wrapper


def _context(request: HttpRequest, **extra) -> dict:
    questionnaire = request.questionnaire
    language = request.LANGUAGE_CODE
    return {
        "questionnaire": questionnaire,
        "invitation": request.invitation,
        "response": request.response,
        "language": language,
        "languages": _language_names(questionnaire),
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
    opens = opening_time(request.questionnaire) if not_yet_open else ""
    return render(request, "respondents/not_open.html", _context(request, opens=opens), status=status)


@require_GET
@respondent_view
def landing(request: HttpRequest) -> HttpResponse:
    invitation, response = request.invitation, request.response
    if response is not None and response.is_submitted:
        return redirect("respondents:thanks")
    if invitation.status == Invitation.Status.DECLINED:
        return _nominator_page(request)
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
            question_count_text=question_count_text(len(definition.questions)),
            referral=_unclaimed_referral(request.invitation),
            minutes=definition.estimated_minutes,
        ),
    )


@require_POST
@respondent_view
def consent(request: HttpRequest) -> HttpResponse:
    token = request.session[SESSION_TOKEN_KEY]
    try:
        response = response_consent(
            invitation=request.invitation, language=request.LANGUAGE_CODE, token=token
        )
    except LinkReplaced:  # another browser took up this forwarded link first
        return neutral_page(request)
    except NotAccepting:
        return _closed_page(request, status=409)
    if response.invitation.token != token:  # this browser took up a forwarded link: it has a new one
        _session_open(request, response.invitation)
        messages.info(
            request,
            _("This is now your personal link; keep it to come back to your answers later: %(link)s")
            % {"link": invitation_link(response.invitation)},
        )
    if response.is_submitted:
        return redirect("respondents:thanks")
    # Like a saved page, consent answers with the page that comes next: the first one unfinished.
    request.invitation, request.response = response.invitation, response
    progress = response_progress(response)
    return _page_or_review(request, progress, progress.next_domain)


def _unclaimed_referral(invitation: Invitation) -> bool:
    return invitation.channel == Invitation.Channel.REFERRAL and invitation.claimed_at is None


@require_POST
@respondent_view
def decline(request: HttpRequest) -> HttpResponse:
    if request.response is not None and request.response.is_submitted:
        return redirect("respondents:thanks")
    token = request.session[SESSION_TOKEN_KEY]
    try:
        invitation = response_decline(invitation=request.invitation, token=token)
    except LinkReplaced:
        return neutral_page(request)
    if invitation.token != token:  # a forwarded link taken up by a refusal has a new token
        _session_open(request, invitation)
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


def _nothing_to_answer(request: HttpRequest) -> HttpResponse | None:
    """Where a respondent with no page to answer goes: before consent, the landing; after
    submitting, the thank-you page. None when answering is where they are."""
    if request.response is None:
        return redirect("respondents:landing")
    if request.response.is_submitted:
        return redirect("respondents:thanks")
    return None


@require_GET
@respondent_view
def resume(request: HttpRequest) -> HttpResponse:
    """Where a returning respondent lands: the first unfinished domain, or the review."""
    response = request.response
    elsewhere = _nothing_to_answer(request)
    if elsewhere:
        return elsewhere
    return _resume_redirect(response)


def _resume_redirect(response: Response) -> HttpResponse:
    progress = response_progress(response)
    if progress.next_domain is None:
        return redirect("respondents:review")
    return redirect("respondents:page", number=_page_number(progress.definition, progress.next_domain.code))


def _page_number(definition, domain_code: str) -> int:
    return definition.page_number_of[domain_code]


@require_http_methods(["GET", "POST"])
@respondent_view
def page(request: HttpRequest, number: int) -> HttpResponse:
    """One domain. Next (or Back) on a valid page saves it and answers with the page that comes
    next, as LimeSurvey and REDCap do: one request per page instead of a redirect and a second
    request. The page then names its own address, which respondent.js puts in the address bar."""
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
                shown_at=request.POST.get("_shown_at", ""),
            )
        except NotAccepting:
            return render(request, "respondents/already_submitted.html", _context(request), status=409)
        except PageChanged:
            messages.warning(
                request,
                _(
                    "These answers were changed after this copy of the page was shown, so nothing was "
                    "saved from it. Here is what is saved now: change it again if you need to."
                ),
            )
            progress = response_progress(response)
            return _domain_page(request, progress, domain, status=409)
        if result.ok:
            return _after_save(request, domain, result.answers)
        errors = result.errors

    progress = response_progress(response)
    if domain.code not in {visible.code for visible in progress.domains}:
        # A domain hidden by earlier answers is skipped.
        following = next((d for d in progress.domains if _page_number(definition, d.code) > number), None)
        if following is None:
            return redirect("respondents:review")
        return redirect("respondents:page", number=_page_number(definition, following.code))
    return _domain_page(request, progress, domain, submitted=submitted, errors=errors)


def _domain_page(
    request: HttpRequest, progress, domain, *, submitted=None, errors=None, status: int | None = None
) -> HttpResponse:
    definition, answers = progress.definition, progress.answers
    number = _page_number(definition, domain.code)
    views = question_views(
        definition=definition,
        domain=domain,
        answers=answers,
        language=request.LANGUAGE_CODE,
        submitted=submitted,
        errors=errors or {},
    )
    previous = progress.previous_domain(domain)
    context = _context(
        request,
        page_url=url("respondents:page", number),
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
        shown_at=saved_stamp(request.response),
    )
    return render(request, "respondents/page.html", context, status=status or (400 if errors else 200))


def _domain_text(definition, domain, field: str, language: str) -> str:
    return pick_text(getattr(domain, field), language, definition.languages)


def _after_save(request: HttpRequest, domain, answers) -> HttpResponse:
    """The page that follows a save: the same one when follow-up questions appeared, the previous
    one for Back, else the next visible domain, or the review after the last."""
    progress = response_progress(request.response, answers=answers)
    shown = set(filter(None, request.POST.get("_shown", "").split(",")))
    now_visible = {question.code for question in visible_questions(progress.definition, domain, answers)}
    if now_visible - shown:
        # Without JavaScript, follow-up questions appear once the answers they depend on are saved.
        messages.info(request, _("Your answers are saved. Some follow-up questions have appeared below."))
        return _domain_page(request, progress, domain)
    target = progress.previous_domain(domain) if request.POST.get("_action") == "back" else None
    return _page_or_review(request, progress, target or progress.following_domain(domain))


def _page_or_review(request: HttpRequest, progress, domain) -> HttpResponse:
    """A domain's page, or the review when there is no domain left (None)."""
    if domain is None:
        return _review_page(request, progress)
    return _domain_page(request, progress, domain)


@require_GET
@respondent_view
def review(request: HttpRequest) -> HttpResponse:
    elsewhere = _nothing_to_answer(request)
    if elsewhere:
        return elsewhere
    return _review_page(request, response_progress(request.response))


def _review_page(request: HttpRequest, progress) -> HttpResponse:
    return render(
        request,
        "respondents/review.html",
        _context(
            request,
            page_url=url("respondents:review"),
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
    return _nominator_page(request)  # the thank-you page, as the answer to Submit


@require_GET
@respondent_view
def thanks(request: HttpRequest) -> HttpResponse:
    response = request.response
    if response is None or not response.is_submitted:
        return redirect("respondents:landing")
    return _nominator_page(request)


# --- Nominating peers ---------------------------------------------------------------------------


def _nomination_context(request: HttpRequest, formset=None) -> dict:
    invitation = request.invitation
    if not may_nominate(invitation):
        return {"nominate": None}
    left = nominations_left(invitation)
    if formset is not None:
        rows = peer_fieldsets(formset)
    elif left:
        rows = blank_peer_fieldsets(left, _language_names(request.questionnaire), request.LANGUAGE_CODE)
    else:
        rows = ""
    return {
        "nominate": {
            "left": left,
            "left_text": nominations_left_text(left),
            "formset": formset,  # a refused one, whose errors the page lists
            "rows": rows,
            "counts": range(1, left + 1),
            "links": [invitation_link(referral) for referral in referral_links_pending(invitation)],
        }
    }


def _language_names(questionnaire: Questionnaire) -> tuple[tuple[str, str], ...]:
    return tuple((code, _language_name(code)) for code in questionnaire.languages)


def _peer_formset(request: HttpRequest, left: int, data=None):
    language = request.LANGUAGE_CODE
    return peer_formset(
        left,
        languages=_language_names(request.questionnaire),
        countries=country_choices(language),
        default_language=language,
        data=data,
    )


def _not_now(request: HttpRequest) -> HttpResponse:
    """Nominating is refused (not submitted or declined, closed, or the quota used up): 409."""
    return render(request, "respondents/not_now.html", _context(request), status=409)


def _nominator_page(request: HttpRequest, formset=None, status: int = 200) -> HttpResponse:
    """The thank-you page after submitting, or the page after declining: both offer nominations."""
    context = _nomination_context(request, formset)
    if request.response is not None and request.response.is_submitted:
        progress = response_progress(request.response)
        return render(
            request,
            "respondents/thanks.html",
            _context(
                request,
                page_url=url("respondents:thanks"),
                sections=_sections(progress, request.LANGUAGE_CODE),
                **context,
            ),
            status=status,
        )
    return render(
        request,
        "respondents/declined.html",
        _context(request, page_url=url("respondents:landing"), **context),
        status=status,
    )


@require_POST
@respondent_view
def nominate(request: HttpRequest) -> HttpResponse:
    invitation = request.invitation
    if not may_nominate(invitation):
        return _not_now(request)
    left = nominations_left(invitation)
    if left == 0:
        return _not_now(request)
    formset = _peer_formset(request, left, data=request.POST)
    if not formset.is_valid() or not formset.peers:
        if formset.is_valid():
            formset._non_form_errors = formset.error_class([_("Enter at least one email address.")])
        return _nominator_page(request, formset, status=400)
    try:
        nominations_create(nominator=invitation, peers=[Peer(**peer) for peer in formset.peers])
    except NominationError:  # the quota was used up meanwhile, from another tab
        return _not_now(request)
    # The same thanks whatever became of each address: nobody learns who else was invited.
    messages.success(request, _("Thank you: we will invite the colleagues you suggested."))
    return redirect(_nominator_home(request))


@require_POST
@respondent_view
def forward(request: HttpRequest) -> HttpResponse:
    """ "I will forward it myself": links with no contact details, one per colleague."""
    invitation = request.invitation
    if not may_nominate(invitation):
        return _not_now(request)
    try:
        count = int(request.POST.get("count", ""))
    except ValueError:
        return HttpResponseBadRequest("Count must be a whole number.")
    try:
        referral_links_create(nominator=invitation, count=count, language=request.LANGUAGE_CODE)
    except NominationError:
        return _not_now(request)
    messages.success(request, _("Your links are ready below: send each one to one colleague."))
    return redirect(_nominator_home(request))


def _nominator_home(request: HttpRequest) -> str:
    completed = request.invitation.status == Invitation.Status.COMPLETED
    return reverse("respondents:thanks" if completed else "respondents:landing")


# --- Opting out ---------------------------------------------------------------------------------


@csrf_exempt  # RFC 8058: mail clients POST without cookies; the opt-out token is the credential
@never_cache
@require_http_methods(["GET", "POST"])
def opt_out_view(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for confirmation (a mail scanner's GET opts nobody out); POST opts out, one click."""
    invitation = Invitation.objects.select_related("questionnaire").filter(opt_out_token=token[:64]).first()
    if invitation is None:
        address = request.client_address
        if failed_lookups_exceeded(address):
            return neutral_page(request, status=429)
        failed_lookup_record(address)
        return neutral_page(request)
    questionnaire = invitation.questionnaire
    language = invitation.language
    if language not in questionnaire.languages:
        language = questionnaire.default_language
    with translation.override(language):
        context = {
            "title": questionnaire.text("title", language),
            "language": language,
            "languages": [],
            "done": request.method == "POST",
        }
        if request.method == "POST":
            opt_out(invitation=invitation)
        response = render(request, "respondents/opt_out.html", context)
        response.headers["Content-Language"] = language
        return response
