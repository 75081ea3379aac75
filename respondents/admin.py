from django.contrib import admin

from consultation.admin import ReadOnlyAdmin

# Respondents' data changes only through the platform's own pages and services.
from .models import Answer, Invitation, InvitationEvent, OutboxMessage, Response, Selection


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ("label", "questionnaire", "wave", "country", "language", "status", "created_at")
    list_filter = ("questionnaire", "status", "wave")
    list_select_related = ("questionnaire",)
    exclude = ("token",)


@admin.register(InvitationEvent)
class InvitationEventAdmin(ReadOnlyAdmin):
    list_display = ("invitation", "kind", "at")
    list_select_related = ("invitation",)


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = ("invitation", "questionnaire", "language", "started_at", "submitted_at")
    list_select_related = ("invitation", "questionnaire")


@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdmin):
    list_display = ("response", "question", "saved_at")
    list_select_related = ("response__invitation", "question")


@admin.register(Selection)
class SelectionAdmin(ReadOnlyAdmin):
    list_display = ("response", "question", "item", "code", "rank")
    list_select_related = ("response__invitation", "question")


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("kind", "to_email", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status", "kind")
