"""The Django admin, for superusers.

Codes, types and choices become read-only once a questionnaire is launched.
"""

from django.contrib import admin

from consultation.admin import ReadOnlyAdmin
from consultation.audit import audit_record
from consultation.models import AuditEntry

from .models import Choice, ConsentVersion, Domain, Membership, Question, Questionnaire
from .services import membership_remove, membership_set, questionnaire_definition_changed


class NoBulkDeleteMixin:
    """Bulk delete would skip the checks and the audit log of delete_model."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class DefinitionEditAdmin(NoBulkDeleteMixin, admin.ModelAdmin):
    """Any edit of the definition bumps the questionnaire's revision and is audited."""

    def questionnaire_of(self, obj) -> Questionnaire:
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._changed(request, obj, {"changed": form.changed_data, "created": not change})

    def delete_model(self, request, obj):
        questionnaire = self.questionnaire_of(obj)
        self._changed(request, obj, {"deleted": True})
        super().delete_model(request, obj)
        questionnaire_definition_changed(questionnaire=questionnaire)

    def _changed(self, request, obj, detail):
        questionnaire = self.questionnaire_of(obj)
        questionnaire_definition_changed(questionnaire=questionnaire)
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.QUESTIONNAIRE_EDITED,
            target=obj,
            questionnaire=questionnaire,
            detail={"via": "admin", **detail},
        )

    def has_delete_permission(self, request, obj=None):
        if obj is not None and self.questionnaire_of(obj).is_locked:
            return False
        return super().has_delete_permission(request, obj)


class ChoiceInline(admin.TabularInline):
    model = Choice
    extra = 0
    fields = ("kind", "position", "code", "value", "label", "is_other")

    def get_readonly_fields(self, request, obj=None):
        return ("kind", "code", "value", "is_other") if obj and obj.questionnaire.is_locked else ()

    def has_add_permission(self, request, obj=None):
        return not (obj and obj.questionnaire.is_locked) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not (obj and obj.questionnaire.is_locked) and super().has_delete_permission(request, obj)


@admin.register(Questionnaire)
class QuestionnaireAdmin(DefinitionEditAdmin):
    list_display = ("slug", "__str__", "status", "opens_at", "closes_at", "revision")
    list_filter = ("status",)
    search_fields = ("slug",)
    readonly_fields = ("revision", "consent_version", "created_at", "updated_at")

    def questionnaire_of(self, obj):
        return obj

    def get_readonly_fields(self, request, obj=None):
        # Status changes go through the questionnaire's page, which checks and audits them.
        fields = (*self.readonly_fields, "status") if obj else self.readonly_fields
        return (*fields, "slug", "languages") if obj and obj.is_locked else fields


@admin.register(Domain)
class DomainAdmin(DefinitionEditAdmin):
    list_display = ("code", "__str__", "questionnaire", "position")
    list_filter = ("questionnaire",)
    list_select_related = ("questionnaire",)

    def questionnaire_of(self, obj):
        return obj.questionnaire

    def get_readonly_fields(self, request, obj=None):
        return ("questionnaire", "code") if obj and obj.questionnaire.is_locked else ()


@admin.register(Question)
class QuestionAdmin(DefinitionEditAdmin):
    list_display = ("code", "__str__", "type", "domain", "required", "breakdown")
    list_filter = ("questionnaire", "type", "breakdown")
    list_select_related = ("domain", "questionnaire")
    search_fields = ("code",)
    inlines = [ChoiceInline]

    def questionnaire_of(self, obj):
        return obj.questionnaire

    def get_readonly_fields(self, request, obj=None):
        return (
            ("questionnaire", "domain", "code", "type", "breakdown")
            if obj and obj.questionnaire.is_locked
            else ()
        )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.has_changed():
            questionnaire_definition_changed(questionnaire=form.instance.questionnaire)


@admin.register(Choice)
class ChoiceAdmin(DefinitionEditAdmin):
    list_display = ("code", "__str__", "question", "kind", "value")
    list_select_related = ("question",)
    search_fields = ("code", "question__code")

    def questionnaire_of(self, obj):
        return obj.question.questionnaire

    def get_readonly_fields(self, request, obj=None):
        locked = obj and obj.question.questionnaire.is_locked
        return ("question", "kind", "code", "value", "is_other") if locked else ()


@admin.register(ConsentVersion)
class ConsentVersionAdmin(ReadOnlyAdmin):
    list_display = ("questionnaire", "version", "created_at")


@admin.register(Membership)
class MembershipAdmin(NoBulkDeleteMixin, admin.ModelAdmin):
    list_display = ("user", "questionnaire", "role", "can_view_personal_data")
    list_filter = ("role", "questionnaire")
    list_select_related = ("user", "questionnaire")

    def get_readonly_fields(self, request, obj=None):
        return ("questionnaire", "user") if obj else ()

    def save_model(self, request, obj, form, change):
        membership_set(
            questionnaire=obj.questionnaire,
            user=obj.user,
            role=obj.role,
            can_view_personal_data=obj.can_view_personal_data,
            actor=request.user,
        )

    def delete_model(self, request, obj):
        membership_remove(membership=obj, actor=request.user)
