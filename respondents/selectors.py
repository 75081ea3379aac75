"""Reads of invitations and responses."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, JSONField, Max, Q
from django.db.models.expressions import RawSQL

from consultation.prepared import PreparedQuery
from questionnaires.engine.conditions import referenced_questions
from questionnaires.engine.definition import Definition, DomainDef
from questionnaires.engine.routing import (
    effective_answers,
    first_unfinished_domain,
    other_text_key,
    visible_domains,
)
from questionnaires.models import Questionnaire
from questionnaires.selectors import question_ids, questionnaire_definition

from .models import Answer, Invitation, Nomination, OptOut, Response, normalise_email


def _in_model_order(model, names: list[str]) -> list[str]:
    # Model.from_db takes a subset of fields in the model's own order.
    ordered = [field.attname for field in model._meta.concrete_fields if field.attname in names]
    assert len(ordered) == len(names), f"not fields of {model.__name__}: {set(names) - set(ordered)}"
    return ordered


# What the respondents' pages read of each; any other field still loads when touched (one query),
# and tests/respondents/test_answering.py walks every page with such loads refused.
_INVITATION_FIELDS = _in_model_order(Invitation, [
    "id", "questionnaire_id", "number", "token", "wave", "nominated_by_id", "seed_id", "channel",
    "language", "status", "country", "claimed_at", "consented_at", "consent_version", "started_at",
    "completed_at",
])  # fmt: skip
_QUESTIONNAIRE_FIELDS = _in_model_order(Questionnaire, [
    "id", "slug", "languages", "title", "organisation", "introduction", "consent_text",
    "consent_version", "status", "opens_at", "closes_at", "time_zone", "nomination_quota", "revision",
    "created_at",
])  # fmt: skip
_RESPONSE_FIELDS = [field.attname for field in Response._meta.concrete_fields]


def _respondent_row(invitation_id: int, *, with_answers: bool):
    row = Invitation.objects.filter(pk=invitation_id).order_by()
    if with_answers:
        # PostgreSQL: the response's answers in the same row, as one JSON array of
        # [question id, value, "other" text], read in the same snapshot as the response.
        answer = Answer._meta
        row = row.annotate(
            answers_as_read=RawSQL(
                f"SELECT jsonb_agg(jsonb_build_array(a.{answer.get_field('question').column}, a.value, "
                f"a.other_text)) FROM {answer.db_table} a WHERE a.{answer.get_field('response').column} = "
                f"{Response._meta.db_table}.{Response._meta.pk.column}",
                [],
                output_field=JSONField(),
            )
        )
    return row.values_list(
        *_INVITATION_FIELDS,
        *(f"questionnaire__{name}" for name in _QUESTIONNAIRE_FIELDS),
        *(f"response__{name}" for name in _RESPONSE_FIELDS),
        *(["answers_as_read"] if with_answers else []),
    )


# Every page a respondent opens starts here: the invitation, its questionnaire and its response in
# one row (a response is there from consent on), and on PostgreSQL the response's answers.
_RESPONDENT_ROW = PreparedQuery(lambda invitation_id: _respondent_row(invitation_id, with_answers=False))
_RESPONDENT_ROW_WITH_ANSWERS = PreparedQuery(
    lambda invitation_id: _respondent_row(invitation_id, with_answers=True)
)


def invitation_from_row(
    row: Sequence[Any], invitation_fields: Sequence[str], questionnaire_fields: Sequence[str]
) -> Invitation:
    """An invitation with its questionnaire attached, from one row holding the invitation's
    fields then the questionnaire's (each list in its model's field order)."""
    split = len(invitation_fields)
    invitation = Invitation.from_db("default", invitation_fields, row[:split])
    invitation.questionnaire = Questionnaire.from_db("default", questionnaire_fields, row[split:])
    return invitation


def respondent_invitation(invitation_id: int) -> Invitation | None:
    """The invitation with its questionnaire and response (None before consent) already attached;
    on PostgreSQL, the response's answers too (see `response_answers`)."""
    with_answers = connection.vendor == "postgresql"
    rows = (_RESPONDENT_ROW_WITH_ANSWERS if with_answers else _RESPONDENT_ROW).rows(invitation_id)
    if not rows:
        return None
    row = rows[0]
    questionnaire_end = len(_INVITATION_FIELDS) + len(_QUESTIONNAIRE_FIELDS)
    response_end = questionnaire_end + len(_RESPONSE_FIELDS)
    invitation = invitation_from_row(row[:questionnaire_end], _INVITATION_FIELDS, _QUESTIONNAIRE_FIELDS)
    questionnaire = invitation.questionnaire
    response_values = row[questionnaire_end:response_end]
    if response_values[0] is None:
        Invitation.response.related.set_cached_value(invitation, None)  # no query for "none yet"
    else:
        response = Response.from_db("default", _RESPONSE_FIELDS, response_values)
        response.questionnaire, response.invitation = questionnaire, invitation
        if with_answers:
            response.answers_as_read = _answers_by_code(questionnaire, row[response_end] or ())
        invitation.response = response
    return invitation


_LINK_ROW = PreparedQuery(
    lambda token: (
        Invitation.objects.filter(token=token)
        .order_by()
        .values_list(
            "id", "questionnaire_id", "token", "status", "questionnaire__id", "questionnaire__status"
        )
    ),
    str,
)


def link_invitation(token: str) -> Invitation | None:
    """The invitation a personal link names, with what opening it checks (its status and its
    questionnaire's): the first request of every respondent's visit."""
    rows = _LINK_ROW.rows(token)
    if not rows:
        return None
    return invitation_from_row(rows[0], ["id", "questionnaire_id", "token", "status"], ["id", "status"])


_ANSWER_ROWS = PreparedQuery(
    lambda response_id: (
        Answer.objects.filter(response_id=response_id)
        .order_by()
        .values_list("question_id", "value", "other_text")
    )
)


def response_answers(response: Response) -> dict[str, Any]:
    """All of a response's answers as the engine reads them, in one query (codes from the cached map).

    A response a respondent's request loaded (`respondent_invitation`) brings the answers read with
    it, in the same statement: they are given instead, until the response is locked or saved
    (`forget_answers_as_read`), after which they are read again (Submit keeps those it read under
    its lock: a submitted response's answers change no more)."""
    as_read = getattr(response, "answers_as_read", None)
    if as_read is not None:
        return dict(as_read)
    return _answers_by_code(response.questionnaire, _ANSWER_ROWS.rows(response.pk))


def forget_answers_as_read(response: Response) -> None:
    """The answers read at the start of the request may be out of date from here on."""
    response.answers_as_read = None


def _answers_by_code(questionnaire: Questionnaire, rows: Iterable[Sequence[Any]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    codes = {question_id: code for code, question_id in question_ids(questionnaire).items()}
    for question_id, value, other_text in rows:
        code = codes[question_id]  # the map is keyed by the questionnaire's current revision
        answers[code] = value
        if other_text:
            answers[other_text_key(code)] = other_text
    return answers


@dataclass(frozen=True)
class Progress:
    definition: Definition
    answers: dict[str, Any]  # those that count (routing.effective_answers)
    domains: list[DomainDef]  # the visible ones, in order
    next_domain: DomainDef | None  # where to resume; None when everything is answered

    def position_of(self, domain: DomainDef) -> int:
        """1-based place among the visible domains ("Domain 3 of 7")."""
        return next(
            index for index, visible in enumerate(self.domains, start=1) if visible.code == domain.code
        )

    @property
    def total(self) -> int:
        """Visible domains, plus hidden ones whose condition still waits on an unanswered question:
        the count does not shrink and grow as the respondent answers ("Domain 1 of 7", not "of 1")."""
        visible = {domain.code for domain in self.domains}
        undecided = [
            domain
            for domain in self.definition.domains
            if domain.code not in visible
            and any(code not in self.answers for code in referenced_questions(domain.condition))
        ]
        return len(self.domains) + len(undecided)

    def previous_domain(self, domain: DomainDef) -> DomainDef | None:
        """The visible domain before this one in the questionnaire's order (this one may be hidden)."""
        page = self.definition.page_number_of
        earlier = [d for d in self.domains if page[d.code] < page[domain.code]]
        return earlier[-1] if earlier else None

    def following_domain(self, domain: DomainDef) -> DomainDef | None:
        page = self.definition.page_number_of
        return next((d for d in self.domains if page[d.code] > page[domain.code]), None)


def response_progress(response: Response, answers: dict[str, Any] | None = None) -> Progress:
    definition = questionnaire_definition(response.questionnaire)
    # Reduced once to the answers that count; every later question about them starts from there.
    effective = effective_answers(definition, response_answers(response) if answers is None else answers)
    return Progress(
        definition=definition,
        answers=effective,
        domains=visible_domains(definition, effective),
        next_domain=first_unfinished_domain(definition, effective, set(response.completed_domains)),
    )


# --- Opt-outs -----------------------------------------------------------------------------------


def email_hash(email: str) -> str:
    """The only form in which an opted-out address is kept: an HMAC under a key of its own."""
    key = settings.OPT_OUT_HASH_KEY.encode()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()


def opted_out_among(emails: Iterable[str]) -> set[str]:
    """The normalised addresses, of those given, that opted out (one query)."""
    by_hash = {email_hash(email): normalise_email(email) for email in emails if email}
    if not by_hash:
        return set()
    found = OptOut.objects.filter(email_hash__in=by_hash).values_list("email_hash", flat=True)
    return {by_hash[hashed] for hashed in found}


def is_opted_out(email: str) -> bool:
    return bool(email) and OptOut.objects.filter(email_hash=email_hash(email)).exists()


# --- Recruitment chains ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Chain:
    seed: Invitation
    size: int  # the seed included
    depth: int  # the deepest wave reached; 0 while the seed has recruited nobody
    completed: int

    @property
    def recruits(self) -> int:
        return self.size - 1

    @property
    def recruits_per_respondent(self) -> float | None:
        """Recruits ÷ chain members who completed: how far each taking part carried the chain."""
        return self.recruits / self.completed if self.completed else None


def largest_chain_seeds(questionnaire: Questionnaire, limit: int) -> list[int]:
    """Ids of the seeds with the most recruits (a bare count per seed), then seeds who recruited
    nobody yet, up to `limit`."""
    invitations = Invitation.objects.filter(questionnaire=questionnaire).order_by()
    largest = list(
        invitations.filter(seed__isnull=False)
        .values("seed_id")
        .annotate(recruits=Count("id"))
        .order_by("-recruits", "seed_id")
        .values_list("seed_id", flat=True)[:limit]
    )
    if len(largest) < limit:
        largest += list(
            invitations.filter(wave=0)
            .exclude(pk__in=largest)
            .order_by("number")
            .values_list("pk", flat=True)[: limit - len(largest)]
        )
    return largest


def chain_summaries(questionnaire: Questionnaire, seeds: Sequence[Invitation]) -> list[Chain]:
    """Size, depth and completions of each seed's chain: one GROUP BY over the denormalised seed."""
    totals = {
        row["seed_id"]: row
        for row in Invitation.objects.filter(questionnaire=questionnaire, seed__in=seeds)
        .values("seed_id")
        .annotate(
            size=Count("id"),
            depth=Max("wave"),
            completed=Count("id", filter=Q(status=Invitation.Status.COMPLETED)),
        )
    }
    return [
        Chain(
            seed=seed,
            size=1 + totals.get(seed.pk, {}).get("size", 0),
            depth=totals.get(seed.pk, {}).get("depth", 0),
            completed=(seed.status == Invitation.Status.COMPLETED)
            + totals.get(seed.pk, {}).get("completed", 0),
        )
        for seed in seeds
    ]


def nomination_counts(questionnaire: Questionnaire) -> dict[str, int]:
    """How many nominations ended each way (refusals included), for the whole questionnaire."""
    rows = (
        Nomination.objects.filter(nominator__questionnaire=questionnaire)
        .values("outcome")
        .annotate(count=Count("id"))
    )
    counts = dict.fromkeys(Nomination.Outcome.values, 0)
    counts.update({row["outcome"]: row["count"] for row in rows})
    return counts
