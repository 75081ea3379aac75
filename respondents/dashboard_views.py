"""The monitoring dashboard: response rates by country, region, wave, seed and role."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from questionnaires.access import questionnaire_action_required
from questionnaires.models import Questionnaire
from questionnaires.permissions import Action

from .dashboard import dashboard

SEEDS_SHOWN = 50


@require_GET
@questionnaire_action_required(Action.VIEW)
def overview(request, questionnaire: Questionnaire):
    figures = dashboard(questionnaire, questionnaire.default_language)
    return render(
        request,
        "respondents/dashboard/overview.html",
        {"questionnaire": questionnaire, "d": figures, "seeds": figures.by_seed[:SEEDS_SHOWN]},
    )


@require_GET
@questionnaire_action_required(Action.VIEW)
def data(request, questionnaire: Questionnaire):
    """The same figures as JSON, for the page's periodic refresh."""
    figures = dashboard(questionnaire, questionnaire.default_language)
    return JsonResponse(
        {
            "total": figures.total.as_dict(),
            "by_region": [tally.as_dict() for tally in figures.by_region],
            "by_country": [tally.as_dict() for tally in figures.by_country],
            "by_wave": [tally.as_dict() for tally in figures.by_wave],
            "by_seed": [tally.as_dict() for tally in figures.by_seed[:SEEDS_SHOWN]],
        }
    )
