from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questionnaires.models import Questionnaire
from respondents.services import CSV_COLUMNS, CsvError, seeds_import_csv


class Command(BaseCommand):
    help = f"Invite seeds (wave 0) from a CSV file with the header {','.join(CSV_COLUMNS)}; all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("file")

    def handle(self, *args, slug: str, file: str, **options):
        questionnaire = Questionnaire.objects.filter(slug=slug).first()
        if questionnaire is None:
            raise CommandError(f"No questionnaire has the slug {slug!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise CommandError(f"{file}: not UTF-8 text") from None
        try:
            invitations = seeds_import_csv(questionnaire=questionnaire, text=text, actor=None)
        except CsvError as error:
            lines = "\n".join(f"  {problem}" for problem in error.problems)
            raise CommandError(
                f"{file}: nobody was invited; {len(error.problems)} problem(s):\n{lines}"
            ) from None
        self.stdout.write(
            self.style.SUCCESS(f"Invited {len(invitations)} seed(s); their emails are in the outbox.")
        )
