"""Exports of a questionnaire's responses: CSV and the edge list stream; Excel and SPSS are built by
a task into a file that the member who asked downloads when it is ready."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from questionnaires.access import questionnaire_action_required
from questionnaires.models import Questionnaire
from questionnaires.permissions import Action

from .exports import STREAMED_FORMATS, ExportOptions, csv_export, export_count, export_file_request
from .models import ExportFile


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[
            ("csv", "CSV (streams at once)"),
            ("xlsx", "Excel, with a codebook sheet"),
            ("sav", "SPSS .sav, with variable and value labels"),
            ("edges", "Recruitment chain: edge list for R's RDS package (CSV)"),
        ],
        widget=forms.RadioSelect,
        initial="csv",
    )
    responses = forms.ChoiceField(
        choices=[("all", "Every respondent who started"), ("complete", "Submitted responses only")],
        initial="all",
    )
    wave = forms.IntegerField(required=False, min_value=0, max_value=10_000, help_text="Empty: every wave.")
    personal_data = forms.BooleanField(
        required=False,
        label="Include names, email addresses and organisations",
        help_text="Only for members allowed to see them; the export is logged either way.",
    )

    def options(self) -> ExportOptions:
        data = self.cleaned_data
        return ExportOptions(
            complete_only=data["responses"] == "complete",
            wave=data["wave"],
            personal_data=data["personal_data"],
        )


def _filename(questionnaire: Questionnaire, suffix: str) -> str:
    return f"{questionnaire.slug}-{suffix}-{timezone.now():%Y%m%d-%H%M}.csv"


@require_http_methods(["GET", "POST"])
@questionnaire_action_required(Action.EXPORT)
def exports(request: HttpRequest, questionnaire: Questionnaire) -> HttpResponse:
    may_see_names = Action.VIEW_PERSONAL_DATA in request.questionnaire_actions
    form = ExportForm(request.POST or None)
    if not may_see_names:
        del form.fields["personal_data"]
    if request.method == "POST" and form.is_valid():
        if "personal_data" not in form.cleaned_data:
            form.cleaned_data["personal_data"] = False
        if request.POST.get("personal_data") and not may_see_names:
            raise PermissionDenied("Your role does not include names and email addresses.")
        return _export(request, questionnaire, form.cleaned_data["format"], form.options())
    files = ExportFile.objects.filter(questionnaire=questionnaire, requested_by=request.user)[:20]
    return render(
        request,
        "respondents/dashboard/exports.html",
        {
            "questionnaire": questionnaire,
            "form": form,
            "files": files,
            "respondents": export_count(questionnaire, ExportOptions()),
        },
        status=400 if form.errors else 200,
    )


def _export(request: HttpRequest, questionnaire: Questionnaire, fmt: str, options: ExportOptions):
    if fmt in STREAMED_FORMATS:  # at once, audited first
        chunks = csv_export(questionnaire=questionnaire, actor=request.user, fmt=fmt, options=options)
        response = StreamingHttpResponse(chunks, content_type="text/csv; charset=utf-8")
        filename = _filename(questionnaire, STREAMED_FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    export_file_request(questionnaire=questionnaire, actor=request.user, fmt=fmt, options=options)
    messages.success(request, "The file is being prepared: it appears below when it is ready.")
    return redirect("dashboard:exports", slug=questionnaire.slug)


@require_GET
@questionnaire_action_required(Action.EXPORT)
def export_download(request: HttpRequest, questionnaire: Questionnaire, export_id: int) -> HttpResponse:
    """Only the member who asked downloads the file, and names only while they may still see them."""
    export = get_object_or_404(
        ExportFile, pk=export_id, questionnaire=questionnaire, requested_by=request.user
    )
    if export.status != ExportFile.Status.READY or not export.file:
        raise Http404("This file is not ready.")
    if export.options.get("personal_data") and Action.VIEW_PERSONAL_DATA not in request.questionnaire_actions:
        raise PermissionDenied(
            "This file holds names and email addresses, which your role no longer includes."
        )
    try:
        handle = export.file.open("rb")
    except FileNotFoundError:
        raise Http404(
            "The file is no longer in the shared file store (MEDIA_ROOT): export it again."
        ) from None
    return FileResponse(handle, as_attachment=True, filename=export.file.name.rsplit("/", 1)[-1])
