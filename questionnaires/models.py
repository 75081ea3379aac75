"""The instrument: a questionnaire, its ordered domains and questions, their choices, and who may work on it.

Every text a respondent reads is stored once per language in a JSON object ({"en": ..., "fr": ...}),
so a questionnaire can have any number of languages without a table per language.
"""

from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .definition_format import MAX_NOMINATION_QUOTA, MAX_REMINDERS, ReminderPolicy
from .engine.definition import CODE_PATTERN, CODE_RULE, Breakdown, QuestionType, pick_text

code_validator = RegexValidator(CODE_PATTERN, f"Use {CODE_RULE}.")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            f"{value!r} is not a known time zone (for example Europe/Paris or America/Toronto)."
        )


def default_reminder_days() -> list[int]:
    return [7, 14]


def default_mail_hours() -> list[int]:
    return [8, 18]


def default_mail_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class QuestionnaireQuerySet(models.QuerySet):
    def for_user(self, user) -> QuestionnaireQuerySet:
        """Questionnaires the user is a member of (superusers see all)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        return self.filter(memberships__user=user).distinct()


class Questionnaire(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    slug = models.SlugField(max_length=80, unique=True)
    languages = models.JSONField(
        default=list, help_text='Language codes, the first one the default: ["en", "fr"].'
    )
    title = models.JSONField(default=dict)
    organisation = models.JSONField(
        default=dict, blank=True, help_text="Who runs the study, in each language."
    )
    introduction = models.JSONField(default=dict, blank=True)
    consent_text = models.JSONField(default=dict, blank=True)
    consent_version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # How many peers each respondent may nominate (the snowball's K); 0 turns nominations off.
    nomination_quota = models.PositiveSmallIntegerField(
        default=3, validators=[MaxValueValidator(MAX_NOMINATION_QUOTA)]
    )
    # Reminders: days after the invitation email, at most `reminder_limit` in all (a "closing soon"
    # one included), sent only within the mail hours and weekdays of the questionnaire's time zone.
    reminder_days = models.JSONField(default=default_reminder_days, blank=True)
    reminder_limit = models.PositiveSmallIntegerField(default=3)
    closing_reminder_days = models.PositiveSmallIntegerField(
        default=3, help_text="0: no closing-soon reminder"
    )
    mail_hours = models.JSONField(default=default_mail_hours, help_text="[first hour, end hour), local time")
    mail_weekdays = models.JSONField(default=default_mail_weekdays, help_text="0 is Monday")
    # Set when the names and addresses of every invitee were removed (retention): never undone.
    personal_data_purged_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change to the definition, so a cached definition is never stale.
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuestionnaireQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="questionnaire_reminder_limits",
                condition=Q(reminder_limit__lte=MAX_REMINDERS, closing_reminder_days__lte=60),
            ),
            models.CheckConstraint(
                name="questionnaire_nomination_quota_range",
                condition=Q(nomination_quota__lte=MAX_NOMINATION_QUOTA),
            ),
            models.CheckConstraint(
                name="questionnaire_status_valid",
                condition=Q(status__in=["draft", "open", "closed"]),
            ),
            models.CheckConstraint(
                name="questionnaire_closes_after_opening",
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                violation_error_message="The closing date must come after the opening date.",
            ),
        ]

    def __str__(self) -> str:
        return self.display_title()

    def get_absolute_url(self) -> str:
        return reverse("questionnaires:detail", kwargs={"slug": self.slug})

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else settings.LANGUAGE_CODE

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def reminder_policy(self) -> ReminderPolicy:
        return ReminderPolicy(
            after_days=tuple(self.reminder_days),
            limit=self.reminder_limit,
            closing_soon_days=self.closing_reminder_days,
            mail_hours=(self.mail_hours[0], self.mail_hours[1]),
            mail_weekdays=tuple(self.mail_weekdays),
        )

    def set_reminder_policy(self, policy: ReminderPolicy) -> None:
        self.reminder_days = list(policy.after_days)
        self.reminder_limit = policy.limit
        self.closing_reminder_days = policy.closing_soon_days
        self.mail_hours = list(policy.mail_hours)
        self.mail_weekdays = list(policy.mail_weekdays)

    @property
    def is_locked(self) -> bool:
        """Once launched, codes, types and choices are frozen: stored answers depend on them."""
        return self.status != self.Status.DRAFT

    def text(self, field: str, language: str | None = None) -> str:
        return pick_text(getattr(self, field), language or self.default_language, tuple(self.languages))

    def display_title(self, language: str | None = None) -> str:
        return self.text("title", language) or self.slug


class ConsentVersion(models.Model):
    """The consent texts a questionnaire has had: a respondent's consent names the version they read."""

    questionnaire = models.ForeignKey(
        Questionnaire, on_delete=models.CASCADE, related_name="consent_versions"
    )
    version = models.PositiveIntegerField()
    text = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["questionnaire", "version"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "version"], name="consent_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.slug} consent v{self.version}"


class Domain(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="domains")
    code = models.CharField(max_length=40, validators=[code_validator])
    position = models.PositiveIntegerField(default=0)
    title = models.JSONField(default=dict)
    description = models.JSONField(default=dict, blank=True)
    condition = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["questionnaire", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="domain_code_unique_in_questionnaire"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.display_title()}"

    def display_title(self, language: str = "en") -> str:
        return pick_text(self.title, language)


class Question(models.Model):
    TYPE_CHOICES = [(kind.value, kind.label) for kind in QuestionType]
    BREAKDOWN_CHOICES = [(mark.value, mark.value.replace("_", " ").capitalize()) for mark in Breakdown]

    # The questionnaire is stored on the question too, so the database itself can keep codes unique.
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="questions")
    domain = models.ForeignKey(Domain, on_delete=models.CASCADE, related_name="questions")
    code = models.CharField(max_length=40, validators=[code_validator])
    position = models.PositiveIntegerField(default=0)
    type = models.CharField(max_length=20, choices=TYPE_CHOICES)
    text = models.JSONField(default=dict)
    help = models.JSONField(default=dict, blank=True)
    required = models.BooleanField(default=False)
    breakdown = models.CharField(max_length=20, choices=BREAKDOWN_CHOICES, blank=True, default="")
    condition = models.JSONField(null=True, blank=True)
    min_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    max_value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    integer_only = models.BooleanField(default=False)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    min_choices = models.PositiveSmallIntegerField(null=True, blank=True)
    max_choices = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["questionnaire", "domain__position", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "code"], name="question_code_unique_in_questionnaire"
            ),
            models.UniqueConstraint(
                fields=["questionnaire", "breakdown"],
                condition=~Q(breakdown=""),
                name="question_breakdown_once_per_questionnaire",
                violation_error_message="Another question of this questionnaire has this breakdown mark.",
            ),
            models.CheckConstraint(
                name="question_type_valid", condition=Q(type__in=[t.value for t in QuestionType])
            ),
            models.CheckConstraint(
                name="question_min_not_above_max",
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lte=models.F("max_value")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {pick_text(self.text, 'en')}"

    def clean(self) -> None:
        if self.domain_id and self.questionnaire_id and self.domain.questionnaire_id != self.questionnaire_id:
            raise ValidationError({"domain": "The domain belongs to another questionnaire."})


class Choice(models.Model):
    """An answer option (a choice, a scale point) or, for rankings and matrices, an item to rate."""

    class Kind(models.TextChoices):
        OPTION = "option", "Answer option"
        ITEM = "item", "Item (matrix row or thing to rank)"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.OPTION)
    code = models.CharField(max_length=40, validators=[code_validator])
    position = models.PositiveIntegerField(default=0)
    label = models.JSONField(default=dict)
    value = models.IntegerField(null=True, blank=True, help_text="The number statistics packages see.")
    is_other = models.BooleanField(default=False, help_text='"Other (please specify)": asks for a text.')

    class Meta:
        ordering = ["question", "kind", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["question", "code"], name="choice_code_unique_in_question"),
            models.UniqueConstraint(
                fields=["question", "value"],
                condition=Q(kind="option"),
                name="choice_value_unique_in_question",
            ),
            models.CheckConstraint(
                name="choice_option_has_value",
                condition=Q(kind="item") | Q(value__isnull=False),
                violation_error_message="Every answer option needs a numeric value.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {pick_text(self.label, 'en')}"


class Membership(models.Model):
    """A staff member's role on one questionnaire."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        RESEARCHER = "researcher", "Researcher"
        MONITOR = "monitor", "Monitor"

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=12, choices=Role.choices)
    can_view_personal_data = models.BooleanField(
        default=False, help_text="May see and export respondents' names and email addresses."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["questionnaire", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "user"], name="membership_once_per_questionnaire"
            ),
            models.CheckConstraint(
                name="membership_role_valid", condition=Q(role__in=["owner", "researcher", "monitor"])
            ),
            models.CheckConstraint(
                name="membership_monitor_without_personal_data",
                condition=~Q(role="monitor") | Q(can_view_personal_data=False),
                violation_error_message="Monitors see pseudonymous data only.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.role} · {self.questionnaire.slug}"
