"""Authoring pages under /author/: thin views over questionnaires/authoring.py.

Every page works without JavaScript (buttons move things up and down); static/js/authoring.js
adds drag-and-drop on top, posting the same order form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from consultation.numbers import whole_number
from respondents.models import Invitation

from .access import questionnaire_action_required
from .author_forms import (
    BlankQuestionnaireForm,
    CopyQuestionnaireForm,
    DomainForm,
    ImportQuestionnaireForm,
    QuestionForm,
    SettingsForm,
    choice_formset,
    formset_inputs,
    language_label,
    suggested_copy_slug,
)
from .authoring import (
    TRANSLATABLE,
    StaleEdit,
    TextCell,
    UnknownOrder,
    domain_delete,
    domain_fingerprint,
    domain_save,
    domains_reorder,
    move_in_order,
    question_delete,
    question_fingerprint,
    question_save,
    questionnaire_copy,
    questionnaire_create_blank,
    questionnaire_fingerprint,
    questionnaire_update_settings,
    questions_reorder,
    text_fingerprint,
    translations_save,
)
from .definition_format import DefinitionError
from .engine.checks import Problem
from .engine.definition import QuestionType, pick_text
from .models import Domain, Membership, Question, Questionnaire
from .permissions import Action
from .selectors import InstrumentRows, instrument_rows
from .services import ALLOWED_TRANSITIONS, questionnaire_import, questionnaire_open_problems

AUTHOR_ROLES = (Membership.Role.OWNER, Membership.Role.RESEARCHER)
MAX_ORDER_IDS = 1000


def _count(rows) -> Coalesce:
    counted = (
        rows.filter(questionnaire=OuterRef("pk"))
        .order_by()
        .values("questionnaire")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _may_create(user) -> bool:
    return user.has_perm("questionnaires.add_questionnaire")


# --- The list and creating -------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """The questionnaires the user may author, with their status and counts (one query)."""
    questionnaires = (
        Questionnaire.objects.all()
        if request.user.is_superuser
        else Questionnaire.objects.filter(memberships__user=request.user, memberships__role__in=AUTHOR_ROLES)
    )
    # One subquery per count: joining domains, questions and invitations at once would multiply rows.
    questionnaires = questionnaires.annotate(
        domain_count=_count(Domain.objects.all()),
        question_count=_count(Question.objects.all()),
        invited_count=_count(Invitation.objects.all()),
        completed_count=_count(Invitation.objects.filter(status=Invitation.Status.COMPLETED)),
    ).order_by("-updated_at")
    return render(
        request,
        "questionnaires/author/index.html",
        {"questionnaires": questionnaires, "may_create": _may_create(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    """Create a questionnaire: blank, from a definition file, or as a copy of one you may author."""
    if not _may_create(request.user):
        raise PermissionDenied("Creating questionnaires needs the 'add questionnaire' permission.")
    sources = _authorable(request.user)
    mode = request.POST.get("mode") if request.method == "POST" else None
    blank = BlankQuestionnaireForm(request.POST if mode == "blank" else None, prefix="blank")
    upload = ImportQuestionnaireForm(
        request.POST if mode == "import" else None,
        request.FILES if mode == "import" else None,
        prefix="import",
    )
    copy = CopyQuestionnaireForm(request.POST if mode == "copy" else None, prefix="copy", sources=sources)
    created = None
    try:
        if mode == "blank" and blank.is_valid():
            created = questionnaire_create_blank(
                slug=blank.cleaned_data["slug"],
                title=blank.cleaned_data["title"],
                languages=blank.cleaned_data["languages"],
                actor=request.user,
            )
        elif mode == "import" and upload.is_valid():
            created = _import(request, upload)
        elif mode == "copy" and copy.is_valid():
            created = questionnaire_copy(
                source=copy.cleaned_data["source"], slug=copy.cleaned_data["slug"], actor=request.user
            )
    except ValidationError as error:
        _form_errors({"blank": blank, "copy": copy, "import": upload}[mode], error)
    if created is not None:
        messages.success(request, f"Created the draft questionnaire {created.slug}.")
        return redirect("author:outline", slug=created.slug)
    if mode not in (None, "blank", "import", "copy"):
        return HttpResponseBadRequest("Unknown way to create a questionnaire.")
    invalid = mode is not None
    return render(
        request,
        "questionnaires/author/new.html",
        {"blank": blank, "upload": upload, "copy": copy, "mode": mode},
        status=400 if invalid else 200,
    )


def _import(request: HttpRequest, form: ImportQuestionnaireForm) -> Questionnaire | None:
    upload = form.cleaned_data["file"]
    if upload.size > 2_000_000:
        form.add_error("file", "The file is larger than 2 MB: is it a questionnaire definition?")
        return None
    try:
        return questionnaire_import(
            raw=upload.read(), actor=request.user, slug=form.cleaned_data.get("slug") or None
        )
    except DefinitionError as error:
        for problem in error.problems[:50]:
            form.add_error("file", f"{problem.path}: {problem.message}")
        return None


def _authorable(user):
    if user.is_superuser:
        return Questionnaire.objects.order_by("slug")
    return Questionnaire.objects.filter(memberships__user=user, memberships__role__in=AUTHOR_ROLES).order_by(
        "slug"
    )


# --- The outline and its validation panel ----------------------------------------------------


@dataclass(frozen=True)
class ProblemLink:
    where: str
    message: str
    url: str


PATH = re.compile(r"^\$\.domains\[(\d+)\](?:\.questions(?:\[(\d+)\])?)?")


def problem_links(rows: InstrumentRows, problems: list[Problem]) -> list[ProblemLink]:
    """Each problem named in words, with the page where it is fixed."""
    slug = rows.questionnaire.slug
    links = []
    for problem in problems:
        match = PATH.match(problem.path)
        if match is None:
            where, url = "Settings", reverse("author:settings", kwargs={"slug": slug})
            if problem.path == "$.domains":
                where, url = "Domains", reverse("author:domain_new", kwargs={"slug": slug})
        else:
            domain = rows.domains[int(match.group(1))]
            where = f"Domain {domain.code}"
            url = reverse("author:domain", kwargs={"slug": slug, "domain_id": domain.pk})
            if match.group(2) is not None:
                question = rows.questions_of[domain.pk][int(match.group(2))]
                where = f"Question {question.code} (domain {domain.code})"
                url = reverse("author:question", kwargs={"slug": slug, "question_id": question.pk})
            elif problem.path.endswith(".questions"):
                url = reverse("author:question_new", kwargs={"slug": slug, "domain_id": domain.pk})
        field = problem.path[match.end() :] if match else problem.path[1:]
        message = problem.message if not field.strip(".") else f"{problem.message} ({field.lstrip('.')})"
        links.append(ProblemLink(where, message, url))
    return links


@require_GET
@questionnaire_action_required(Action.AUTHOR)
def outline(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse:
    rows = instrument_rows(questionnaire)
    problems = questionnaire_open_problems(questionnaire, definition=rows.definition)
    language = questionnaire.default_language
    domains = [
        {
            "row": domain,
            "title": pick_text(domain.title, language),
            "questions": [
                {
                    "row": question,
                    "text": pick_text(question.text, language),
                    "type_label": QuestionType(question.type).label,
                    "choice_count": len(rows.options_of.get(question.pk, ()))
                    + len(rows.items_of.get(question.pk, ())),
                }
                for question in rows.questions_of.get(domain.pk, [])
            ],
        }
        for domain in rows.domains
    ]
    can_change_status = Action.CHANGE_STATUS in request.questionnaire_actions
    return render(
        request,
        "questionnaires/author/outline.html",
        {
            "questionnaire": questionnaire,
            "domains": domains,
            "problems": problem_links(rows, problems),
            "languages": [(code, language_label(code)) for code in questionnaire.languages],
            "next_statuses": sorted(ALLOWED_TRANSITIONS[questionnaire.status]) if can_change_status else [],
            "question_types": [(kind.value, kind.label) for kind in QuestionType],
            "may_create": _may_create(request.user),
        },
    )


# --- Settings and copies ---------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.AUTHOR)
def settings_page(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse:
    form = SettingsForm(
        request.POST or None,
        questionnaire=questionnaire,
        fingerprint=questionnaire_fingerprint(questionnaire),
    )
    if request.method == "POST" and form.is_valid():
        try:
            questionnaire_update_settings(
                questionnaire=questionnaire,
                changes=form.changes(),
                fingerprint=form.cleaned_data["fingerprint"],
                actor=request.user,
            )
        except StaleEdit as error:
            messages.error(request, error.messages[0])
            return redirect("author:settings", slug=questionnaire.slug)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, "Settings saved.")
            return redirect("author:outline", slug=questionnaire.slug)
    return render(
        request,
        "questionnaires/author/settings.html",
        {"questionnaire": questionnaire, "form": form},
        status=400 if form.errors else 200,
    )


def _form_errors(form, error: ValidationError) -> None:
    """A service's refusal shown on the form: next to its field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.AUTHOR)
def duplicate(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse:
    """Duplicate as a new draft: the way to change what a launched questionnaire has frozen."""
    if not _may_create(request.user):
        raise PermissionDenied("Creating questionnaires needs the 'add questionnaire' permission.")
    form = CopyQuestionnaireForm(
        request.POST or None,
        prefix="copy",
        sources=Questionnaire.objects.filter(pk=questionnaire.pk),
        initial={"source": questionnaire.pk, "slug": suggested_copy_slug(questionnaire.slug)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            copy = questionnaire_copy(
                source=questionnaire, slug=form.cleaned_data["slug"], actor=request.user
            )
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(
                request, f"Duplicated as the new draft {copy.slug}: everything in it can be edited."
            )
            return redirect("author:outline", slug=copy.slug)
    return render(
        request,
        "questionnaires/author/duplicate.html",
        {"questionnaire": questionnaire, "form": form},
        status=400 if form.errors else 200,
    )


# --- Domains ---------------------------------------------------------------------------------


def _earlier_for_domain(rows: InstrumentRows, domain: Domain | None):
    """Questions a domain's condition may test: those of the domains before it."""
    definition = rows.definition
    earlier = []
    for row, domain_def in zip(rows.domains, definition.domains, strict=True):
        if domain is not None and row.pk == domain.pk:
            break
        earlier.extend(domain_def.questions)
    return earlier


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.AUTHOR)
def domain_edit(
    request: HttpRequest, questionnaire: Questionnaire, domain_id: int | None = None
) -> HttpResponse:
    domain = get_object_or_404(Domain, pk=domain_id, questionnaire=questionnaire) if domain_id else None
    if domain is None and questionnaire.is_locked:
        messages.error(
            request,
            f"Domains cannot be added after launch: the questionnaire is {questionnaire.status}. "
            "Duplicate it as a new draft to add one.",
        )
        if request.method == "POST":
            return _refused(request, questionnaire)
        return redirect("author:outline", slug=questionnaire.slug)
    rows = instrument_rows(questionnaire)
    form = DomainForm(
        request.POST or None,
        languages=list(questionnaire.languages),
        domain=domain,
        earlier=_earlier_for_domain(rows, domain),
        fingerprint=domain_fingerprint(domain) if domain else "",
        locked=questionnaire.is_locked,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = domain_save(
                questionnaire=questionnaire,
                domain=domain,
                data=form.data_input(),
                fingerprint=form.cleaned_data["fingerprint"],
                actor=request.user,
            )
        except StaleEdit as error:
            messages.error(request, error.messages[0])
            return redirect("author:domain", slug=questionnaire.slug, domain_id=domain.pk)
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, f"Domain {saved.code} saved.")
            return redirect(
                reverse("author:outline", kwargs={"slug": questionnaire.slug}) + f"#domain-{saved.pk}"
            )
    return render(
        request,
        "questionnaires/author/domain_form.html",
        {"questionnaire": questionnaire, "domain": domain, "form": form},
        status=400 if form.errors else 200,
    )


def _refused(request: HttpRequest, questionnaire: Questionnaire, status: int = 409) -> HttpResponse:
    return render(
        request, "questionnaires/author/refused.html", {"questionnaire": questionnaire}, status=status
    )


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.AUTHOR)
def domain_remove(request: HttpRequest, questionnaire: Questionnaire, domain_id: int) -> HttpResponse:
    domain = get_object_or_404(Domain, pk=domain_id, questionnaire=questionnaire)
    return _confirm_delete(
        request,
        questionnaire,
        what=f"domain {domain.code} and its {domain.questions.count()} questions",
        title=pick_text(domain.title, questionnaire.default_language),
        delete=lambda: domain_delete(domain=domain, actor=request.user),
    )


def _confirm_delete(request, questionnaire, *, what: str, title: str, delete) -> HttpResponse:
    """GET asks for confirmation and says why a launched questionnaire refuses; POST deletes."""
    refusal = ""
    if questionnaire.is_locked:
        refusal = (
            f"The {what.split(' and ')[0]} cannot be deleted: the questionnaire is {questionnaire.status} "
            "and respondents' stored answers depend on it. Deleting it would orphan them. "
            "You can still fix its wording and translations, or duplicate the questionnaire as a new "
            "draft and delete it there."
        )
    if request.method == "POST":
        try:
            delete()
        except ValidationError as error:
            refusal = " ".join(error.messages)
        else:
            messages.success(request, f"Deleted the {what}.")
            return redirect("author:outline", slug=questionnaire.slug)
    return render(
        request,
        "questionnaires/author/confirm_delete.html",
        {
            "questionnaire": questionnaire,
            "what": what,
            "title": title,
            "refusal": refusal,
            "may_create": _may_create(request.user),
        },
        status=409 if refusal and request.method == "POST" else 200,
    )


def _posted_order(request: HttpRequest, current: list[int]) -> list[int] | None:
    """The new order: a full list of ids (drag-and-drop), or "<id>:up" / "<id>:down" (the buttons)."""
    if "move" in request.POST:
        posted, _, direction = request.POST["move"].partition(":")
        pk = whole_number(posted)
        if pk is None or direction not in ("up", "down"):
            return None
        if pk not in current:
            return [pk]  # an unknown id: the service refuses it by name
        return move_in_order(current, pk, direction)
    raw = request.POST.getlist("order")
    ids = [whole_number(value) for value in raw[: MAX_ORDER_IDS + 1]]
    if not ids or len(ids) > MAX_ORDER_IDS or None in ids:
        return None
    return ids


def _moved_anchor(request: HttpRequest, kind: str, fallback: str) -> str:
    pk = request.POST.get("move", "").partition(":")[0]
    return f"#{kind}-{pk}" if whole_number(pk) is not None else fallback


def _order_response(
    request: HttpRequest, questionnaire: Questionnaire, anchor: str, error: ValidationError | None
):
    if isinstance(error, UnknownOrder):  # a tampered or out-of-date list: nothing moved
        return HttpResponse(" ".join(error.messages), status=400, content_type="text/plain; charset=utf-8")
    if error is not None:
        if request.headers.get("Accept") == "application/json":
            return HttpResponse(
                " ".join(error.messages), status=409, content_type="text/plain; charset=utf-8"
            )
        messages.error(request, " ".join(error.messages))
        return redirect(reverse("author:outline", kwargs={"slug": questionnaire.slug}) + anchor)
    if request.headers.get("Accept") == "application/json":
        return HttpResponse(status=204)
    messages.success(request, "New order saved.")
    return redirect(reverse("author:outline", kwargs={"slug": questionnaire.slug}) + anchor)


@require_POST
@questionnaire_action_required(Action.AUTHOR)
def domains_order(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse:
    current = list(questionnaire.domains.order_by("position", "id").values_list("pk", flat=True))
    order = _posted_order(request, current)
    if order is None:
        return HttpResponseBadRequest("Send the new order as ids, or one id to move up or down.")
    error = None
    try:
        domains_reorder(questionnaire=questionnaire, ordered_ids=order, actor=request.user)
    except ValidationError as refusal:
        error = refusal
    anchor = _moved_anchor(request, "domain", "#domains")
    return _order_response(request, questionnaire, anchor, error)


# --- Questions -------------------------------------------------------------------------------


def _earlier_for_question(rows: InstrumentRows, domain: Domain, question: Question | None):
    """Questions a question's condition may test: every one before it (all of its domain's, for a new one)."""
    earlier = []
    for row, domain_def in zip(rows.domains, rows.definition.domains, strict=True):
        for question_row, question_def in zip(
            rows.questions_of.get(row.pk, []), domain_def.questions, strict=True
        ):
            if question is not None and question_row.pk == question.pk:
                return earlier
            earlier.append(question_def)
        if question is None and row.pk == domain.pk:
            return earlier
    return earlier


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.AUTHOR)
def question_edit(
    request: HttpRequest,
    questionnaire: Questionnaire,
    question_id: int | None = None,
    domain_id: int | None = None,
) -> HttpResponse:
    if question_id is not None:
        question = get_object_or_404(
            Question.objects.select_related("domain"), pk=question_id, questionnaire=questionnaire
        )
        domain = question.domain
    else:
        question = None
        domain = get_object_or_404(Domain, pk=domain_id, questionnaire=questionnaire)
    rows = instrument_rows(questionnaire)
    languages = list(questionnaire.languages)
    locked = questionnaire.is_locked
    options = rows.options_of.get(question.pk, []) if question else []
    items = rows.items_of.get(question.pk, []) if question else []
    data = request.POST if request.method == "POST" else None
    form = QuestionForm(
        data,
        languages=languages,
        domains=[(row.pk, f"{row.code} — {pick_text(row.title, languages[0])}") for row in rows.domains],
        question=question,
        earlier=_earlier_for_question(rows, domain, question),
        fingerprint=question_fingerprint(question, options + items) if question else "",
        locked=locked,
        initial_type=request.GET.get("type"),
        initial={"domain": domain.pk},
    )

    def rows_of(kind: str, data_or_none):
        return choice_formset(
            prefix=f"{kind}s",
            data=data_or_none,
            choices=options if kind == "option" else items,
            languages=languages,
            with_values=kind == "option",
            locked=locked,
        )

    option_forms, item_forms = rows_of("option", data), rows_of("item", data)
    if request.method == "POST":
        # Only the rows the chosen type uses are read (the others may hold leftovers of another type).
        kind = QuestionType(form.cleaned_data["type"]) if form.is_valid() else None
        if kind is not None and not kind.has_options:
            option_forms = rows_of("option", None)
        if kind is not None and not kind.has_items:
            item_forms = rows_of("item", None)
        valid = (
            kind is not None
            and (not kind.has_options or option_forms.is_valid())
            and (not kind.has_items or item_forms.is_valid())
        )
        if valid:
            try:
                saved = question_save(
                    questionnaire=questionnaire,
                    domain=domain,
                    question=question,
                    data=form.data_input(),
                    options=formset_inputs(option_forms) if kind.has_options else [],
                    items=formset_inputs(item_forms) if kind.has_items else [],
                    fingerprint=form.cleaned_data["fingerprint"] or None,
                    actor=request.user,
                )
            except StaleEdit as error:
                messages.error(request, error.messages[0])
                return redirect("author:question", slug=questionnaire.slug, question_id=question.pk)
            except ValidationError as error:
                _question_errors(form, option_forms, item_forms, error)
            else:
                messages.success(request, f"Question {saved.code} saved.")
                if "_continue" in request.POST:
                    return redirect("author:question", slug=questionnaire.slug, question_id=saved.pk)
                return redirect(
                    reverse("author:outline", kwargs={"slug": questionnaire.slug}) + f"#question-{saved.pk}"
                )
    invalid = request.method == "POST"  # a valid POST has redirected
    return render(
        request,
        "questionnaires/author/question_form.html",
        {
            "questionnaire": questionnaire,
            "domain": domain,
            "question": question,
            "form": form,
            "option_forms": option_forms,
            "item_forms": item_forms,
            "locked": locked,
            "types_with_options": [kind.value for kind in QuestionType if kind.has_options],
            "types_with_items": [kind.value for kind in QuestionType if kind.has_items],
        },
        status=400 if invalid else 200,
    )


def _question_errors(form, option_forms, item_forms, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, messages_ in error.message_dict.items():
        if field == "options":
            option_forms._non_form_errors = option_forms.error_class(messages_)
        elif field == "items":
            item_forms._non_form_errors = item_forms.error_class(messages_)
        elif field == "condition":
            form.add_error(
                "cond_json" if form.cleaned_data.get("cond_json") else None,
                [f"Condition: {m}" for m in messages_],
            )
        else:
            form.add_error(field if field in form.fields else None, messages_)


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.AUTHOR)
def question_remove(request: HttpRequest, questionnaire: Questionnaire, question_id: int) -> HttpResponse:
    question = get_object_or_404(Question, pk=question_id, questionnaire=questionnaire)
    return _confirm_delete(
        request,
        questionnaire,
        what=f"question {question.code}",
        title=pick_text(question.text, questionnaire.default_language),
        delete=lambda: question_delete(question=question, actor=request.user),
    )


@require_POST
@questionnaire_action_required(Action.AUTHOR)
def questions_order(request: HttpRequest, questionnaire: Questionnaire, domain_id: int) -> HttpResponse:
    domain = get_object_or_404(Domain, pk=domain_id, questionnaire=questionnaire)
    current = list(domain.questions.order_by("position", "id").values_list("pk", flat=True))
    order = _posted_order(request, current)
    if order is None:
        return HttpResponseBadRequest("Send the new order as ids, or one id to move up or down.")
    error = None
    try:
        questions_reorder(domain=domain, ordered_ids=order, actor=request.user)
    except ValidationError as refusal:
        error = refusal
    anchor = _moved_anchor(request, "question", f"#domain-{domain.pk}")
    return _order_response(request, questionnaire, anchor, error)


# --- Translations side by side ---------------------------------------------------------------


@dataclass
class TranslationRow:
    label: str
    cells: list[dict]  # one per language: key, text, fingerprint, missing
    long: bool = False

    @property
    def missing(self) -> bool:
        return any(cell["missing"] for cell in self.cells)


@dataclass
class TranslationSection:
    key: str  # in the page's address: "" for the questionnaire's own texts, else the domain's code
    name: str
    entries: list[TranslationRow]

    @property
    def missing(self) -> int:
        return sum(cell["missing"] for entry in self.entries for cell in entry.cells)


def translation_rows(rows: InstrumentRows) -> list[TranslationSection]:
    """Every text of the questionnaire, one column per language, grouped by domain."""
    questionnaire = rows.questionnaire
    languages = list(questionnaire.languages)

    def row(model: str, obj, field: str, label: str, *, required: bool, long: bool = False):
        texts = getattr(obj, field) or {}
        filled = {language for language in languages if (texts.get(language) or "").strip()}
        needed = not (not filled and not required)
        cells = [
            {
                "key": TextCell(model, obj.pk, field, language).key,
                "language": language,
                "text": texts.get(language, ""),
                "fingerprint": text_fingerprint(texts.get(language, "")),
                "missing": needed and language not in filled,
            }
            for language in languages
        ]
        return TranslationRow(label, cells, long)

    groups = [
        TranslationSection(
            "",
            "Questionnaire",
            [
                row("questionnaire", questionnaire, "title", "Title", required=True),
                row("questionnaire", questionnaire, "organisation", "Who runs the study", required=False),
                row(
                    "questionnaire", questionnaire, "introduction", "Introduction", required=False, long=True
                ),
                row(
                    "questionnaire", questionnaire, "consent_text", "Consent text", required=False, long=True
                ),
            ],
        )
    ]
    for domain in rows.domains:
        entries = [
            row("domain", domain, "title", f"{domain.code} · title", required=True),
            row("domain", domain, "description", f"{domain.code} · description", required=False, long=True),
        ]
        for question in rows.questions_of.get(domain.pk, []):
            entries.append(row("question", question, "text", question.code, required=True, long=True))
            entries.append(row("question", question, "help", f"{question.code} · help", required=False))
            for choice in rows.options_of.get(question.pk, []) + rows.items_of.get(question.pk, []):
                entries.append(
                    row("choice", choice, "label", f"{question.code} · {choice.code}", required=True)
                )
        groups.append(TranslationSection(domain.code, f"Domain {domain.code}", entries))
    return groups


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.AUTHOR)
def translations(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse:
    """One section at a time (the questionnaire's own texts, then each domain), so a long
    questionnaire's form stays well within the fields a request may carry."""
    section = request.GET.get("section", "")
    here = reverse("author:translations", kwargs={"slug": questionnaire.slug}) + (
        f"?{urlencode({'section': section})}" if section else ""
    )
    if request.method == "POST":
        edits = {}
        for name, text in request.POST.items():
            if not name.startswith("t:"):
                continue
            key, _, shown = name[2:].rpartition(":")  # t:<cell>:<fingerprint of the text shown>
            cell = TextCell.parse(key)
            if cell is None or cell.model not in TRANSLATABLE:
                return HttpResponseBadRequest("Unknown text.")
            if len(text) > 20_000 or "\x00" in text:
                return HttpResponseBadRequest(
                    "A text is too long or holds a character that cannot be stored."
                )
            edits[cell] = (shown, text)
        try:
            count = translations_save(questionnaire=questionnaire, edits=edits, actor=request.user)
        except ValidationError as error:  # out of date (StaleEdit) or refused: nothing was saved
            messages.error(request, " ".join(error.messages))
            return redirect(here)
        messages.success(request, f"Saved {count} text{pluralize(count)}." if count else "No text changed.")
        return redirect(here)
    rows = instrument_rows(questionnaire)
    sections = translation_rows(rows)
    chosen = next((item for item in sections if item.key == section), None)
    if chosen is None:
        raise Http404("No such section.")
    entries = chosen.entries
    only_missing = request.GET.get("missing") == "1"
    if only_missing:
        entries = [entry for entry in entries if entry.missing]
    return render(
        request,
        "questionnaires/author/translations.html",
        {
            "questionnaire": questionnaire,
            "groups": [(chosen.name, entries)],
            "sections": sections,
            "section": chosen,
            "languages": [(code, language_label(code)) for code in questionnaire.languages],
            "missing": sum(item.missing for item in sections),
            "only_missing": only_missing,
        },
    )
