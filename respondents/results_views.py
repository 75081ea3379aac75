"""Results, coding of open answers, and the printable report."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from consultation.numbers import whole_number
from questionnaires.access import questionnaire_action_required
from questionnaires.engine.definition import Breakdown, pick_text
from questionnaires.models import Questionnaire
from questionnaires.permissions import Action
from questionnaires.selectors import questionnaire_definition

from .coding import answer_tag, answer_untag
from .models import Invitation, Theme
from .presenters import wave_label
from .regions import REGIONS
from .results import ROUNDING_RULE, ResultFilters, open_answers, results, sample_composition

OPEN_PAGE = 100


def _whole(text: str) -> int:
    """A posted whole number; ValueError (a 400 for the caller) for anything else."""
    number = whole_number(text)
    if number is None:
        raise ValueError(text)
    return number


class FiltersForm(forms.Form):
    domain = forms.ChoiceField(required=False)
    wave = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    responses = forms.ChoiceField(
        required=False,
        choices=[("all", "Everyone who started"), ("complete", "Complete"), ("partial", "Partial")],
    )
    breakdown = forms.ChoiceField(required=False)

    def __init__(self, data, *, questionnaire: Questionnaire, domains, with_domain: bool = True):
        super().__init__(data)
        definition = questionnaire_definition(questionnaire)
        self.fields["domain"].choices = [
            (d.code, f"{d.code} · {pick_text(d.title, questionnaire.default_language)}") for d in domains
        ]
        if not with_domain:
            del self.fields["domain"]
        waves = (
            Invitation.objects.filter(questionnaire=questionnaire)
            .order_by("wave")  # not the model's ordering, which DISTINCT would add: a row per invitation
            .values_list("wave", flat=True)
            .distinct()
        )
        self.fields["wave"].choices = [("", "Every wave")] + [(wave, wave_label(wave)) for wave in waves]
        breakdowns = [("none", "None")]
        if definition.with_breakdown(Breakdown.COUNTRY):
            breakdowns += [("region", "Region"), ("country", "Country")]
        if definition.with_breakdown(Breakdown.ROLE):
            breakdowns.append(("role", "Responsibility level"))
        self.fields["breakdown"].choices = breakdowns

    def filters(self) -> ResultFilters:
        data = self.cleaned_data if self.is_valid() else {}
        breakdown = data.get("breakdown") or (
            "region" if ("region", "Region") in self.fields["breakdown"].choices else "none"
        )
        return ResultFilters(
            wave=data.get("wave"), responses=data.get("responses") or "all", breakdown=breakdown
        )


@require_GET
@questionnaire_action_required(Action.VIEW)
def results_page(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse:
    definition = questionnaire_definition(questionnaire)
    if not definition.domains:
        raise Http404("This questionnaire has no domains yet.")
    form = FiltersForm(request.GET or None, questionnaire=questionnaire, domains=definition.domains)
    if request.GET and not form.is_valid():
        return HttpResponseBadRequest("Unknown filter.")
    domain_code = (form.cleaned_data.get("domain") if request.GET else "") or definition.domains[0].code
    filters = form.filters()
    language = questionnaire.default_language
    figures = results(questionnaire, filters, language=language, domain_codes=[domain_code])
    return render(
        request,
        "respondents/dashboard/results.html",
        {
            "questionnaire": questionnaire,
            "form": form,
            "r": figures,
            "domain": figures.domains[0],
            "rounding_rule": ROUNDING_RULE,
            "may_code": Action.CODE in request.questionnaire_actions,
            "query": request.GET.urlencode(),
        },
    )


def _text_question(questionnaire: Questionnaire, code: str):
    definition = questionnaire_definition(questionnaire)
    question = definition.questions_by_code.get(code)
    if question is None or not question.type.is_text:
        raise Http404("No open question has this code.")
    return definition, question


@require_GET
@questionnaire_action_required(Action.VIEW)
def open_answers_page(request: HttpRequest, questionnaire: Questionnaire, code: str) -> HttpResponse:
    definition, question = _text_question(questionnaire, code)
    country = request.GET.get("country", "")[:2].upper()
    region = request.GET.get("region", "")
    if region and region not in REGIONS:
        return HttpResponseBadRequest("Unknown region.")
    try:
        page = max(_whole(request.GET.get("page", "1")), 1)
    except ValueError:
        return HttpResponseBadRequest("The page is a number.")
    page = min(page, 1_000_000)  # beyond the last page: an empty page, not a database overflow
    answers, total = open_answers(
        questionnaire,
        code,
        ResultFilters(),
        country=country,
        region=region,
        limit=OPEN_PAGE,
        offset=(page - 1) * OPEN_PAGE,
    )
    return render(
        request,
        "respondents/dashboard/open_answers.html",
        {
            "questionnaire": questionnaire,
            "question": question,
            "question_text": pick_text(question.text, questionnaire.default_language, definition.languages),
            "answers": answers,
            "total": total,
            "page": page,
            "pages": max(-(-total // OPEN_PAGE), 1),
            "country": country,
            "region": region,
            "regions": REGIONS,
            "themes": Theme.objects.filter(questionnaire=questionnaire).annotate(uses=Count("tags")),
            "may_code": Action.CODE in request.questionnaire_actions,
            "back": request.get_full_path(),
        },
    )


def _back_to(request: HttpRequest, questionnaire: Questionnaire, code: str) -> str:
    target = request.POST.get("next", "")
    prefix = reverse("dashboard:open_answers", kwargs={"slug": questionnaire.slug, "code": code})
    return target if target.startswith(prefix) else prefix


@require_POST
@questionnaire_action_required(Action.CODE)
def tag(request: HttpRequest, questionnaire: Questionnaire, code: str) -> HttpResponse:
    _text_question(questionnaire, code)
    try:
        answer_id = _whole(request.POST.get("answer", ""))
        theme_id = _whole(request.POST["theme"]) if request.POST.get("theme") else None
    except ValueError:
        return HttpResponseBadRequest("Answer and theme are numbers.")
    try:
        answer_tag(
            questionnaire=questionnaire,
            question_code=code,
            answer_id=answer_id,
            theme_id=theme_id,
            new_theme=request.POST.get("new_theme", ""),
            actor=request.user,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect(_back_to(request, questionnaire, code) + f"#answer-{answer_id}")


@require_POST
@questionnaire_action_required(Action.CODE)
def untag(request: HttpRequest, questionnaire: Questionnaire, code: str) -> HttpResponse:
    _text_question(questionnaire, code)
    try:
        answer_id, theme_id = _whole(request.POST.get("answer", "")), _whole(request.POST.get("theme", ""))
    except ValueError:
        return HttpResponseBadRequest("Answer and theme are numbers.")
    answer_untag(questionnaire=questionnaire, answer_id=answer_id, theme_id=theme_id, actor=request.user)
    return redirect(_back_to(request, questionnaire, code) + f"#answer-{answer_id}")


# --- The report ------------------------------------------------------------------------------


@require_GET
@questionnaire_action_required(Action.VIEW)
def report(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse:
    language = questionnaire.default_language
    definition = questionnaire_definition(questionnaire)
    figures = results(questionnaire, ResultFilters(responses="complete", breakdown="none"), language=language)
    marked = {}
    for mark in (Breakdown.ROLE, Breakdown.SITE_TYPE):
        question = definition.with_breakdown(mark)
        if question is not None:
            marked[mark.value] = next(
                q for d in figures.domains for q in d.questions if q.code == question.code
            )
    return render(
        request,
        "respondents/dashboard/report.html",
        {
            "questionnaire": questionnaire,
            "title": questionnaire.display_title(language),
            "sample": sample_composition(questionnaire),
            "marked_tables": list(marked.values()),
            "domains": figures.domains,
            "rounding_rule": ROUNDING_RULE,
            "marked_codes": {q.code for q in marked.values()},
        },
    )
