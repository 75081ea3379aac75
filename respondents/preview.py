"""Preview: a questionnaire exactly as respondents see it, in any of its languages, for its authors.

Nothing is stored and no invitation is needed. The answers given so far travel with the page as a
signed hidden field, so conditions work across domains (live on the page with JavaScript, after
"Save and continue" without) and the last page shows the review, all without a database write.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from questionnaires.access import questionnaire_action_required
from questionnaires.engine.conditions import evaluate
from questionnaires.engine.definition import Definition, DomainDef, pick_text
from questionnaires.engine.routing import effective_answers, visible_domains, visible_questions
from questionnaires.models import Questionnaire
from questionnaires.permissions import Action
from questionnaires.selectors import questionnaire_definition

from .presenters import answer_lines, page_conditions, question_count_text, question_views
from .services import validate_domain
from .views import MAX_FIELDS_PER_PAGE, _language_name

STATE_FIELD = "_preview_state"
STATE_MAX_BYTES = 200_000


def _signer(questionnaire: Questionnaire) -> signing.Signer:
    # Bound to the questionnaire and its revision: a state from another questionnaire, or from
    # before an edit, is not read as this one's.
    return signing.Signer(salt=f"preview:{questionnaire.pk}:{questionnaire.revision}")


def _state_dump(questionnaire: Questionnaire, answers: dict[str, Any]) -> str:
    return _signer(questionnaire).sign_object(answers, compress=True)


def _state_load(questionnaire: Questionnaire, raw: str) -> dict[str, Any] | None:
    if not raw:
        return {}
    if len(raw) > STATE_MAX_BYTES:
        return None
    try:
        state = _signer(questionnaire).unsign_object(raw)
    except signing.BadSignature:
        return None
    return state if isinstance(state, dict) else None


def _preview_context(
    request: HttpRequest, questionnaire: Questionnaire, language: str, number: int | None
) -> dict:
    def url(code: str) -> str:
        kwargs: dict[str, Any] = {"slug": questionnaire.slug, "language": code}
        if number:
            kwargs["number"] = number
            return reverse("author:preview_page", kwargs=kwargs)
        return reverse("author:preview", kwargs=kwargs)

    return {
        "questionnaire": questionnaire,
        "language": language,
        "languages": [],
        "title": questionnaire.text("title", language),
        "preview": {
            "languages": [
                (code, _language_name(code), url(code))
                for code in questionnaire.languages
                if code != language
            ],
            "outline": reverse("author:outline", kwargs={"slug": questionnaire.slug}),
            "start": reverse(
                "author:preview_page", kwargs={"slug": questionnaire.slug, "language": language, "number": 1}
            ),
        },
    }


def _speaking(view):
    """Check the language and render in it; an unknown language is a 404."""

    def wrapper(request: HttpRequest, questionnaire: Questionnaire, language: str, *args, **kwargs):
        if language not in questionnaire.languages:
            raise Http404("The questionnaire has no such language.")
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = view(request, questionnaire, language, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response.render()
            response.headers["Content-Language"] = language
            return response

    wrapper.__name__ = view.__name__
    return wrapper


@never_cache
@require_http_methods(["GET"])
@questionnaire_action_required(Action.AUTHOR)
@_speaking
def preview_start(request: HttpRequest, questionnaire: Questionnaire, language: str) -> HttpResponse:
    definition = questionnaire_definition(questionnaire)
    context = _preview_context(request, questionnaire, language, None)
    context.update(
        introduction=questionnaire.text("introduction", language),
        consent_text=questionnaire.text("consent_text", language),
        organisation=questionnaire.text("organisation", language),
        question_count_text=question_count_text(len(definition.questions)),
        minutes=definition.estimated_minutes,
    )
    return render(request, "respondents/preview_landing.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.AUTHOR)
@_speaking
def preview_page(
    request: HttpRequest, questionnaire: Questionnaire, language: str, number: int
) -> HttpResponse:
    definition = questionnaire_definition(questionnaire)
    if not 1 <= number <= len(definition.domains):
        raise Http404("No such page.")
    domain = definition.domains[number - 1]
    answers: dict[str, Any] = {}
    submitted, errors = None, {}
    if request.method == "POST":
        if len(request.POST) > MAX_FIELDS_PER_PAGE:
            return HttpResponseBadRequest("Too many fields.")
        state = _state_load(questionnaire, request.POST.get(STATE_FIELD, ""))
        if state is None:
            return HttpResponseBadRequest(
                "The preview's answers were changed outside the page, or the questionnaire was edited "
                "meanwhile: start the preview again."
            )
        answers = state
        submitted = {
            key: request.POST.getlist(key)
            for key in request.POST
            if key not in ("csrfmiddlewaretoken", STATE_FIELD)
        }
        going_back = request.POST.get("_action") == "back"
        result = validate_domain(
            definition=definition,
            domain=domain,
            stored=answers,
            submitted=submitted,
            enforce_required=not going_back,
        )
        if result.ok:
            answers = result.answers
            shown = set(filter(None, request.POST.get("_shown", "").split(",")))
            now_visible = {question.code for question in visible_questions(definition, domain, answers)}
            if now_visible - shown:
                messages.info(
                    request, _("Your answers are saved. Some follow-up questions have appeared below.")
                )
                return _render_page(request, questionnaire, language, definition, domain, answers)
            visible = visible_domains(definition, answers)
            here = definition.page_number_of[domain.code]
            if going_back:
                earlier = [d for d in visible if definition.page_number_of[d.code] < here]
                target = earlier[-1] if earlier else domain
            else:
                later = [d for d in visible if definition.page_number_of[d.code] > here]
                if not later:
                    return _render_end(request, questionnaire, language, definition, answers)
                target = later[0]
            return _render_page(request, questionnaire, language, definition, target, answers)
        errors = result.errors
    return _render_page(
        request, questionnaire, language, definition, domain, answers, submitted=submitted, errors=errors
    )


def _render_page(
    request: HttpRequest,
    questionnaire: Questionnaire,
    language: str,
    definition: Definition,
    domain: DomainDef,
    answers: dict[str, Any],
    *,
    submitted=None,
    errors=None,
) -> HttpResponse:
    number = definition.page_number_of[domain.code]
    views = question_views(
        definition=definition,
        domain=domain,
        answers=answers,
        language=language,
        submitted=submitted,
        errors=errors,
    )
    visible = visible_domains(definition, answers)
    codes = [d.code for d in visible]
    position = codes.index(domain.code) + 1 if domain.code in codes else number
    context = _preview_context(request, questionnaire, language, number)
    context.update(
        domain=domain,
        domain_title=pick_text(domain.title, language, definition.languages),
        domain_description=pick_text(domain.description, language, definition.languages),
        questions=views,
        error_list=[view for view in views if view.error],
        position=position,
        total=len(visible) if domain.code in codes else len(definition.domains),
        number=number,
        has_previous=position > 1,
        shown=",".join(view.code for view in views if view.visible),
        conditions=page_conditions(definition, domain, answers),
        form_action=reverse(
            "author:preview_page", kwargs={"slug": questionnaire.slug, "language": language, "number": number}
        ),
        preview_state=_state_dump(questionnaire, answers),
        hidden_by_condition=not evaluate(domain.condition, effective_answers(definition, answers)),
    )
    return render(request, "respondents/page.html", context, status=400 if errors else 200)


def _render_end(
    request: HttpRequest, questionnaire: Questionnaire, language: str, definition: Definition, answers: dict
) -> HttpResponse:
    context = _preview_context(request, questionnaire, language, None)
    context["sections"] = [
        {
            "title": pick_text(domain.title, language, definition.languages),
            "number": definition.page_number_of[domain.code],
            "lines": answer_lines(definition, domain, answers, language),
            "unfinished": False,
        }
        for domain in visible_domains(definition, answers)
    ]
    return render(request, "respondents/preview_end.html", context)
