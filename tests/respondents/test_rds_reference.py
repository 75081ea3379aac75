"""The exports carry what respondent-driven sampling needs: checked against the published results of
R's RDS package on its `faux` data set (../shared/reference/rds_faux.csv, 389 respondents, 1 seed).

The sample is loaded as a consultation (each respondent an invitation in the chain, trait X and the
network size as answers, through the services respondents use), exported as the edge list and the
responses CSV, and the package's figures are recomputed from the exported files alone.
The data set is copied into tests/respondents/data/ with its licence note.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from questionnaires.services import questionnaire_import, questionnaire_set_status
from respondents.exports import ExportOptions, csv_chunks, edge_csv_chunks
from respondents.models import Invitation
from respondents.services import response_consent, response_save_domain, response_submit

FAUX = Path(__file__).parent / "data" / "rds_faux.csv"
pytestmark = pytest.mark.django_db

DEFINITION = {
    "format": "consultation.questionnaire",
    "format_version": 1,
    "slug": "rds-faux",
    "languages": ["en"],
    "title": {"en": "RDS faux"},
    "domains": [
        {
            "code": "PROFILE",
            "title": {"en": "Profile"},
            "questions": [
                {
                    "code": "X",
                    "type": "single_choice",
                    "text": {"en": "Trait X"},
                    "required": True,
                    "choices": [
                        {"code": "blue", "value": 1, "label": {"en": "blue"}},
                        {"code": "red", "value": 2, "label": {"en": "red"}},
                    ],
                },
                {
                    "code": "NET",
                    "type": "number",
                    "text": {"en": "Network size"},
                    "required": True,
                    "breakdown": "network_size",
                },
            ],
        }
    ],
}


def load_faux():
    questionnaire = questionnaire_import(raw=DEFINITION)
    questionnaire = questionnaire_set_status(questionnaire=questionnaire, status="open", actor=None)
    rows = sorted(csv.DictReader(FAUX.open()), key=lambda row: int(row["wave"]))
    invitations: dict[str, Invitation] = {}
    for row in rows:
        recruiter = None if row["recruiter.id"] == "seed" else invitations[row["recruiter.id"]]
        invitation = Invitation.objects.create(
            questionnaire=questionnaire,
            number=int(row["id"]),
            wave=int(row["wave"]),
            nominated_by=recruiter,
            seed=None if recruiter is None else invitations[row["seed"]],
            language="en",
        )
        invitations[row["id"]] = invitation
        response = response_consent(invitation=invitation, language="en")
        answers = {"X": [row["X"]], "NET": [row["network.size"]]}
        assert response_save_domain(response=response, domain_code="PROFILE", submitted=answers).ok
        response_submit(response=response)
    return questionnaire


def table(chunks) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO("".join(chunks).lstrip("\ufeff"))))


def test_the_edge_list_and_responses_reproduce_the_rds_package_on_faux():
    questionnaire = load_faux()
    edges = table(edge_csv_chunks(questionnaire, ExportOptions()))
    responses = table(csv_chunks(questionnaire, ExportOptions(), "en"))
    assert len(edges) == len(responses) == 389
    assert sum(edge["recruiter_id"] == "seed" for edge in edges) == 1

    trait = {row["respondent_id"]: "blue" if row["X"] == "1" else "red" for row in responses}
    transitions: dict[tuple[str, str], int] = {}
    for edge in edges:
        if edge["recruiter_id"] != "seed":
            pair = (trait[edge["recruiter_id"]], trait[edge["recruit_id"]])
            transitions[pair] = transitions.get(pair, 0) + 1
    assert [
        transitions[pair] for pair in [("blue", "blue"), ("blue", "red"), ("red", "blue"), ("red", "red")]
    ] == [
        39,
        82,
        79,
        188,
    ]

    # RDS-II (Volz-Heckathorn): P(blue) = Σ_blue 1/d ÷ Σ 1/d, d the network size.
    weights = {edge["recruit_id"]: 1 / float(edge["network_size"]) for edge in edges}
    blue = sum(weight for person, weight in weights.items() if trait[person] == "blue")
    assert blue / sum(weights.values()) == pytest.approx(0.310334112778454, abs=1e-12)
