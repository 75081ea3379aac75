from collections.abc import Sequence

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.utils.choices import BaseChoiceIterator
from django.utils.translation import gettext_lazy as _

from .models import normalise_email

MAX_CSV_BYTES = 2 * 1024 * 1024


class SeedForm(forms.Form):
    email = forms.EmailField(max_length=254)
    name = forms.CharField(max_length=200, required=False)
    organisation = forms.CharField(max_length=200, required=False)
    country = forms.CharField(
        max_length=100, required=False, help_text="ISO code (CA) or English name (Canada)."
    )
    language = forms.ChoiceField(choices=())

    def __init__(self, *args, languages: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [(code, code) for code in languages]
        self.helper = FormHelper()
        self.helper.form_tag = False


class SeedCsvForm(forms.Form):
    file = forms.FileField(help_text="UTF-8 CSV with the header: email,name,organisation,country,language")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("upload", "Invite everyone in the file"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text: save it as 'CSV UTF-8'.") from None


# --- Respondents' nominations (plain templates render these: see templates/jinja2/respondents/_nominate.html)


class PlainChoices(BaseChoiceIterator):
    """Choices already in their final form, (value, label) strings, kept as they are: Django would
    normalise a plain list of 250 countries again for each colleague's form, and again whenever
    the list is read, which cost more than the rest of the thank-you page."""

    def __init__(self, choices: Sequence[tuple[str, str]]):
        self.choices = tuple(choices)

    def __iter__(self):
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)


class PeerForm(forms.Form):
    """One colleague a respondent suggests. A row left entirely blank is skipped."""

    name = forms.CharField(label=_("Name"), max_length=200, required=False)
    email = forms.EmailField(label=_("Email address"), max_length=254)
    organisation = forms.CharField(label=_("Organisation"), max_length=200, required=False)
    role = forms.CharField(label=_("Role or position"), max_length=200, required=False)
    country = forms.ChoiceField(label=_("Country"), required=False)
    language = forms.ChoiceField(label=_("Language for the invitation"))
    may_name_nominator = forms.BooleanField(label=_("They may be told that I suggested them"), required=False)

    def __init__(
        self, *args, languages: Sequence[tuple[str, str]], countries, default_language: str, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = list(languages)
        # The respondent's own language to start with; a row left blank then counts as unchanged.
        self.fields["language"].initial = default_language
        self.fields["country"].choices = PlainChoices((("", "—"), *countries))


class BasePeerFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            email = form.cleaned_data.get("email")
            if not email:
                continue
            key = normalise_email(email)
            if key in seen:
                form.add_error("email", _("This address is already in the list above."))
            seen.add(key)

    @property
    def peers(self) -> list[dict]:
        return [form.cleaned_data for form in self.forms if form.cleaned_data.get("email")]


def peer_formset(left: int, *, languages, countries, default_language: str, data=None):
    """As many rows as nominations are left; a tampered POST with more rows is refused by validate_max."""
    formset_class = forms.formset_factory(
        PeerForm, formset=BasePeerFormSet, extra=left, max_num=left, validate_max=True, absolute_max=left
    )
    # Every row is an "extra" form (no initial data), so Django lets a blank one be skipped.
    return formset_class(
        data,
        prefix="peer",
        form_kwargs={"languages": languages, "countries": countries, "default_language": default_language},
    )


# --- Researchers' forms (crispy) ------------------------------------------------------------------

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]


# Where each rule of ReminderPolicy.problems() shows its message in the form.
POLICY_FIELDS = {"mail_hours": "end_hour", "mail_weekdays": "weekdays"}


class ReminderPolicyForm(forms.Form):
    after_days = forms.CharField(
        label="Reminders, days after the invitation",
        help_text="Whole days, in increasing order, separated by commas, such as 7, 14. Empty: none.",
        required=False,
    )
    limit = forms.IntegerField(
        label="At most this many reminders per person", min_value=0, max_value=10,
        help_text="The closing-soon reminder included; 0 turns reminders off.",
    )  # fmt: skip
    closing_soon_days = forms.IntegerField(
        label="Closing-soon reminder, days before the closing date", min_value=0, max_value=60,
        help_text="0: none.",
    )  # fmt: skip
    first_hour = forms.IntegerField(label="Send from (hour)", min_value=0, max_value=23)
    end_hour = forms.IntegerField(label="Until (hour)", min_value=1, max_value=24)
    weekdays = forms.TypedMultipleChoiceField(
        label="On", choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, time_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_hour"].help_text = f"Hours in the questionnaire's time zone, {time_zone}."
        self.helper = FormHelper()
        self.helper.form_tag = False

    @classmethod
    def initial_from(cls, policy) -> dict:
        return {
            "after_days": ", ".join(str(day) for day in policy.after_days),
            "limit": policy.limit,
            "closing_soon_days": policy.closing_soon_days,
            "first_hour": policy.mail_hours[0],
            "end_hour": policy.mail_hours[1],
            "weekdays": list(policy.mail_weekdays),
        }

    def clean_after_days(self) -> tuple[int, ...]:
        raw = self.cleaned_data["after_days"]
        try:
            return tuple(int(part) for part in raw.replace(";", ",").split(",") if part.strip())
        except ValueError:
            raise forms.ValidationError(
                "Use whole numbers of days separated by commas, such as 7, 14."
            ) from None

    def policy(self):
        from questionnaires.definition_format import ReminderPolicy

        data = self.cleaned_data
        return ReminderPolicy(
            after_days=data["after_days"],
            limit=data["limit"],
            closing_soon_days=data["closing_soon_days"],
            mail_hours=(data["first_hour"], data["end_hour"]),
            mail_weekdays=tuple(sorted(data["weekdays"])),
        )

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            for key, message in self.policy().problems():
                self.add_error(POLICY_FIELDS.get(key, key), message)
        return cleaned


class AddressForm(forms.Form):
    email = forms.EmailField(label="Correct address", max_length=254)


class BounceForm(forms.Form):
    reason = forms.CharField(label="Reason (from the bounce message)", max_length=250, required=False)
