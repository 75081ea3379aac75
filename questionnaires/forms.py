from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.contrib.auth import get_user_model

from .models import Membership, Questionnaire


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, help_text="The staff account to add or change.")
    role = forms.ChoiceField(choices=Membership.Role.choices)
    can_view_personal_data = forms.BooleanField(
        required=False, label="May see and export names and email addresses"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save member"))

    def clean_username(self):
        username = self.cleaned_data["username"]
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise forms.ValidationError("No active staff account has this username.")
        return user

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role") == Membership.Role.MONITOR and cleaned.get("can_view_personal_data"):
            self.add_error("can_view_personal_data", "Monitors see pseudonymous data only.")
        return cleaned


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Questionnaire.Status.choices)
