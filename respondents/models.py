"""The people and their answers: invitations (the recruitment chain), responses, answers, the email outbox."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_countries import countries

from questionnaires.models import Question, Questionnaire

TOKEN_BYTES = 32  # 256 bits from the operating system's CSPRNG


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def pseudonym(number: int | None) -> str:
    """A respondent's stable label within the questionnaire (R-0012), never the database id."""
    return "" if number is None else f"R-{number:04d}"


def normalise_email(email: str) -> str:
    """Addresses compare case-insensitively and without surrounding spaces."""
    return email.strip().lower()


class Invitation(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"  # the platform emails the personal link
        REFERRAL = "referral", "Referral link"  # a nominator forwards the link; no contact details

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        EMAILED = "emailed", "Emailed"
        CONSENTED = "consented", "Consented"
        DECLINED = "declined", "Declined"
        STARTED = "started", "Started"
        COMPLETED = "completed", "Completed"
        REVOKED = "revoked", "Revoked"
        ERASED = "erased", "Withdrawn: answers and contact details erased"

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="invitations")
    # A stable pseudonym within the questionnaire (R-0012): never the database id.
    number = models.PositiveIntegerField()
    token = models.CharField(max_length=64, unique=True, default=new_token)
    wave = models.PositiveSmallIntegerField(default=0)
    nominated_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="nominees"
    )
    # The chain's first invitation, kept on every nominee so a chain's size and depth are one GROUP BY.
    seed = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="chain_members"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    # Whether the nominee may be told who recommended them (the nominator's choice; default no).
    nominator_may_be_named = models.BooleanField(default=False)
    # The opt-out link's credential: a separate secret, so an opt-out link never opens the answers.
    opt_out_token = models.CharField(max_length=64, unique=True, default=new_token)
    email = models.EmailField(max_length=254, blank=True)
    email_normalised = models.CharField(max_length=254, blank=True, editable=False)
    name = models.CharField(max_length=200, blank=True)
    organisation = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=200, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    language = models.CharField(max_length=12)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CREATED)
    created_at = models.DateTimeField(auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    consent_version = models.PositiveIntegerField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    # When a referral link was taken up; its token is then replaced, so the forwarded link opens nothing.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # The address: refused for good by its mail server (or marked bounced by hand), or opted out.
    email_failed_at = models.DateTimeField(null=True, blank=True)
    email_failure = models.CharField(max_length=300, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True)
    # Reminders queued so far (the scan's counter, kept under the questionnaire's lock).
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    closing_reminder_sent = models.BooleanField(default=False)

    class Meta:
        ordering = ["questionnaire", "number"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "number"], name="invitation_number_unique"),
            models.UniqueConstraint(
                fields=["questionnaire", "email_normalised"],
                condition=~Q(email_normalised=""),
                name="invitation_email_once_per_questionnaire",
            ),
            models.CheckConstraint(
                name="invitation_status_valid",
                condition=Q(
                    status__in=[
                        "created",
                        "emailed",
                        "consented",
                        "declined",
                        "started",
                        "completed",
                        "revoked",
                        "erased",
                    ]
                ),
            ),
            models.CheckConstraint(
                name="invitation_seed_has_no_nominator",
                condition=Q(wave=0, nominated_by__isnull=True, seed__isnull=True)
                | Q(wave__gt=0, nominated_by__isnull=False, seed__isnull=False),
            ),
            models.CheckConstraint(
                name="invitation_channel_valid", condition=Q(channel__in=["email", "referral"])
            ),
            models.CheckConstraint(
                name="invitation_referral_has_no_address",
                condition=~Q(channel="referral") | Q(email=""),
            ),
        ]
        indexes = [
            models.Index(fields=["questionnaire", "status"], name="invitation_by_status"),
            models.Index(fields=["seed", "wave"], name="invitation_chain"),
            # The reminder scan: due invitations of a questionnaire by status and reminder count.
            models.Index(
                fields=["questionnaire", "status", "reminders_sent", "emailed_at"],
                name="invitation_reminder_due",
                condition=Q(email_failed_at__isnull=True, opted_out_at__isnull=True, channel="email"),
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return pseudonym(self.number)

    @property
    def pseudonym(self) -> str:
        """What staff without access to personal data see: "R-0012 · Canada"."""
        return f"{self.label} · {countries.name(self.country)}" if self.country else self.label

    @property
    def is_active(self) -> bool:
        return self.status not in (self.Status.REVOKED, self.Status.DECLINED, self.Status.ERASED)


class Nomination(models.Model):
    """One peer a respondent put forward, whatever became of it; the quota counts these rows.

    A refused nomination (the nominator's own address, someone already invited, an address that
    opted out) keeps no contact details: only that it happened and why, for the counts.
    """

    class Outcome(models.TextChoices):
        INVITED = "invited", "Invited by email"
        REFERRAL = "referral", "Referral link given"
        SELF = "self", "Refused: the nominator's own address"
        ALREADY_INVITED = "already_invited", "Refused: already invited"
        OPTED_OUT = "opted_out", "Refused: the address opted out"

    nominator = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="nominations")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    invitation = models.OneToOneField(
        Invitation, on_delete=models.CASCADE, null=True, blank=True, related_name="nomination"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["nominator", "id"]
        constraints = [
            models.CheckConstraint(
                name="nomination_outcome_valid",
                condition=Q(outcome__in=["invited", "referral", "self", "already_invited", "opted_out"]),
            ),
            models.CheckConstraint(
                name="nomination_invitation_iff_accepted",
                condition=Q(outcome__in=["invited", "referral"], invitation__isnull=False)
                | Q(outcome__in=["self", "already_invited", "opted_out"], invitation__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nominator} → {self.outcome}"


class OptOut(models.Model):
    """An address that asked never to be emailed again by any questionnaire on the platform.

    Only a keyed hash is kept (HMAC-SHA256 with OPT_OUT_HASH_KEY): the list can be checked
    against, but it is not a list of addresses.
    """

    email_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "opt-out"

    def __str__(self) -> str:
        return f"opt-out {self.email_hash[:12]}…"


class InvitationEvent(models.Model):
    """The status history of an invitation."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        EMAILED = "emailed", "Emailed"
        OPENED = "opened", "Opened"
        CONSENTED = "consented", "Consented"
        DECLINED = "declined", "Declined"
        STARTED = "started", "Started"
        COMPLETED = "completed", "Completed"
        REVOKED = "revoked", "Revoked"
        ERASED = "erased", "Withdrawn: answers and contact details erased"
        CLAIMED = "claimed", "Referral link taken up"
        OPTED_OUT = "opted_out", "Opted out of all email"

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    at = models.DateTimeField(auto_now_add=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["invitation", "at", "id"]

    def __str__(self) -> str:
        return f"{self.invitation} {self.kind} {self.at:%Y-%m-%d %H:%M}"


class Response(models.Model):
    """One invitation's answers and how far they got. Created at consent."""

    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="response")
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="responses")
    language = models.CharField(max_length=12)
    # Codes of the domains saved without errors; where a returning respondent resumes is derived from it.
    completed_domains = models.JSONField(default=list, blank=True)
    last_domain = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["questionnaire", "submitted_at"], name="response_by_submission")]

    def __str__(self) -> str:
        return f"Response of {self.invitation}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class Answer(models.Model):
    """One question's answer. `value` holds it as the engine sees it; the typed columns feed aggregates."""

    # No indexes of their own: the unique (response, question) constraint's index starts with the
    # response, answer_counts with the question.
    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers", db_index=False)
    question = models.ForeignKey(Question, on_delete=models.RESTRICT, related_name="answers", db_index=False)
    value = models.JSONField()
    other_text = models.TextField(blank=True)
    number = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="answer_once_per_question"),
        ]
        indexes = [
            # Results count answers and sum numbers per question (and respondent) from the index alone.
            models.Index(fields=["question"], include=["response", "number"], name="answer_counts"),
        ]

    def __str__(self) -> str:
        return f"{self.response_id}/{self.question_id}"


class AnswerCopy(models.Model):
    """A response's answers as two JSON objects (question id to value, to "other" text), for the CSV
    export on PostgreSQL, which spreads each into its columns instead of gathering the answer rows.

    Written only by statement triggers on the answers table (migration 0008), whichever code writes
    the answers (a TRUNCATE or disabled triggers aside); never by the application. A response without answers
    has none. On other databases the table stays empty: their export reads the answers in Python.
    Kept apart from Response so that its rows, read by every page save and dashboard, stay narrow.
    """

    response = models.OneToOneField(Response, on_delete=models.CASCADE, primary_key=True, related_name="+")
    answer_values = models.JSONField()
    other_texts = models.JSONField(null=True)

    def __str__(self) -> str:
        return f"answers of {self.response_id}"


class Selection(models.Model):
    """Each code an answer chose, one row per choice (per row of a matrix, per ranked item).

    Per-question counts for dashboards and results are then one GROUP BY on an index, on
    PostgreSQL and SQLite alike, however many respondents there are.
    """

    # No indexes of their own: selection_unique starts with the response, selection_counts with the
    # question (a third and fourth index on the largest table would only slow every save).
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="selections", db_index=False
    )
    question = models.ForeignKey(
        Question, on_delete=models.RESTRICT, related_name="selections", db_index=False
    )
    item = models.CharField(max_length=40, blank=True)  # matrix row or ranked item
    code = models.CharField(max_length=40)  # choice code, country code, or "" for a ranking
    rank = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question", "item", "code"], name="selection_unique"),
        ]
        indexes = [
            # Results, dashboards and breakdowns count (question, item, code) per response and rank
            # from the index alone.
            models.Index(
                fields=["question", "item", "code"], include=["response", "rank"], name="selection_counts"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}:{self.item}:{self.code}"


class OutboxMessage(models.Model):
    """Every email is a row here first, written in the transaction that decided to send it."""

    class Kind(models.TextChoices):
        INVITATION = "invitation", "Invitation"
        REMINDER = "reminder", "Reminder"
        CLOSING = "closing", "Closing-soon reminder"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"  # the server refused it for good, or every retry failed
        CANCELLED = "cancelled", "Not sent"  # no longer wanted: declined, opted out, completed, closed

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="outbox")
    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, null=True, blank=True, related_name="outbox"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sequence = models.PositiveSmallIntegerField(default=1)
    # The same message is never queued twice: invitation + kind + sequence.
    key = models.CharField(max_length=120, unique=True)
    # Rendered when the row is written, or (reminders) when it is delivered: see outbox_render.
    message_id = models.CharField(max_length=200, unique=True)
    to_email = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)  # a retry's time (backoff)
    enqueued_at = models.DateTimeField(null=True, blank=True)  # last handed to the broker (the sweep's lease)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to_email} ({self.status})"


class Theme(models.Model):
    """A code that researchers give open answers ("staff awareness training"), to count what is cited."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="themes")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["questionnaire", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "name"], name="theme_name_once_per_questionnaire"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ThemeTag(models.Model):
    """An open answer tagged with a theme; an answer may carry several themes, each once."""

    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="tags")
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="theme_tags")
    tagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["answer", "theme"], name="theme_tag_once_per_answer"),
        ]
        indexes = [models.Index(fields=["theme", "answer"], name="theme_tag_by_theme")]

    def __str__(self) -> str:
        return f"{self.theme} ← {self.answer_id}"


class ExportFile(models.Model):
    """A spreadsheet or .sav built by a task for the member who asked; downloaded when ready."""

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        SAV = "sav", "SPSS (.sav)"

    class Status(models.TextChoices):
        PENDING = "pending", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="export_files")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    format = models.CharField(max_length=8, choices=Format.choices)
    options = models.JSONField(default=dict, blank=True)  # which responses, whether names and emails
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    file = models.FileField(upload_to="exports/", blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(name="export_file_format_valid", condition=Q(format__in=["xlsx", "sav"])),
            models.CheckConstraint(
                name="export_file_status_valid", condition=Q(status__in=["pending", "ready", "failed"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.slug} {self.format} ({self.status})"
