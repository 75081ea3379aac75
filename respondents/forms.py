from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms

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
