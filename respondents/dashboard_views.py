"""The monitoring dashboard: response rates by country, region, wave, seed and role."""

from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from consultation.numbers import whole_number
from questionnaires.access import questionnaire_action_required
from questionnaires.models import Questionnaire
from questionnaires.permissions import Action

from .dashboard import (
    NODE_HEIGHT,
    NODE_WIDTH,
    SEEDS_SHOWN,
    chain_summaries_top,
    chain_tree,
    dashboard_snapshot,
    tree_nodes,
)


@require_GET
@questionnaire_action_required(Action.VIEW)
def overview(request, questionnaire: Questionnaire):
    figures = dashboard_snapshot(questionnaire, questionnaire.default_language)
    return render(
        request,
        "respondents/dashboard/overview.html",
        {
            "questionnaire": questionnaire,
            "d": figures,
            "seeds": figures.by_seed,
            "can_export": Action.EXPORT in request.questionnaire_actions,
        },
    )


@require_GET
@questionnaire_action_required(Action.VIEW)
def data(request, questionnaire: Questionnaire):
    """The same figures as JSON, for the page's periodic refresh."""
    figures = dashboard_snapshot(questionnaire, questionnaire.default_language)
    return JsonResponse(
        {
            "computed_at": figures.computed_at.isoformat(),
            "total": figures.total.as_dict(),
            "by_region": [tally.as_dict() for tally in figures.by_region],
            "by_country": [tally.as_dict() for tally in figures.by_country],
            "by_wave": [tally.as_dict() for tally in figures.by_wave],
            "by_seed": [tally.as_dict() for tally in figures.by_seed],
            "timeline": [{**row, "day": row["day"].isoformat()} for row in figures.timeline],
        }
    )


@require_GET
@questionnaire_action_required(Action.VIEW)
def chains(request, questionnaire: Questionnaire):
    """Every seed's chain in figures, the region-to-region matrix, and one seed's tree drawn."""
    chosen = request.GET.get("seed", "")
    # The largest chains, the matrix and the seed count come with the dashboard's snapshot.
    figures = dashboard_snapshot(questionnaire, questionnaire.default_language)
    chosen_number = whole_number(chosen, digits=9)
    summaries = chain_summaries_top(questionnaire, figures.largest_seeds, also=chosen_number)
    regions, matrix = figures.recruitment
    selected = next(
        (s for s in summaries if s.seed.number == chosen_number), summaries[0] if summaries else None
    )
    tree = None
    if selected is not None:
        root, width, height = chain_tree(questionnaire, selected.seed)
        tree = {"root": root, "nodes": list(tree_nodes(root)), "width": width, "height": height}
    return render(
        request,
        "respondents/dashboard/chains.html",
        {
            "questionnaire": questionnaire,
            "summaries": summaries[:SEEDS_SHOWN],
            "seed_count": figures.seed_count,
            "computed_at": figures.computed_at,
            "selected": selected,
            "tree": tree,
            "regions": regions,
            "matrix": list(zip(regions, matrix, strict=True)),
            "node_width": NODE_WIDTH,
            "node_height": NODE_HEIGHT,
        },
    )
