"""Remove the names, addresses and organisations of a closed questionnaire's invitees, everywhere."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from questionnaires.models import Questionnaire
from respondents.privacy import personal_data_purge, personal_data_report


class Command(BaseCommand):
    help = (
        "Remove every invitee's name, email address and organisation from a closed questionnaire "
        "(invitations, outbox, audit log, export files). Cannot be undone; answers and the chain stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would be removed; change nothing."
        )

    def handle(self, *args, slug, dry_run, **options):
        questionnaire = Questionnaire.objects.filter(slug=slug).first()
        if questionnaire is None:
            raise CommandError(f"No questionnaire has the slug {slug!r}.")
        if dry_run:
            report = personal_data_report(questionnaire)
            self.stdout.write(f"A purge of {slug} would remove:")
            for line in report.lines():
                self.stdout.write(f"  {line}")
            if questionnaire.status != Questionnaire.Status.CLOSED:
                self.stdout.write(f"It would be refused now: the questionnaire is {questionnaire.status}.")
            return
        try:
            report = personal_data_purge(questionnaire=questionnaire, actor=None)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(self.style.SUCCESS(f"Purged the personal data of {slug}:"))
        for line in report.lines():
            self.stdout.write(f"  {line}")
