from django.core.management.base import BaseCommand, CommandError

from questionnaires.definition_format import document_to_json, dumps
from questionnaires.models import Questionnaire
from questionnaires.selectors import questionnaire_document


class Command(BaseCommand):
    help = "Write a questionnaire's definition (JSON) to standard output."

    def add_arguments(self, parser):
        parser.add_argument("slug")

    def handle(self, *args, slug: str, **options):
        questionnaire = Questionnaire.objects.filter(slug=slug).first()
        if questionnaire is None:
            raise CommandError(f"No questionnaire has the slug {slug!r}.")
        self.stdout.write(dumps(document_to_json(questionnaire_document(questionnaire))), ending="")
