from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questionnaires.definition_format import DefinitionError
from questionnaires.services import questionnaire_import


class Command(BaseCommand):
    help = "Load a questionnaire definition file (JSON) as a new draft, in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the definition file, or - for standard input.")
        parser.add_argument("--slug", help="Use this slug instead of the file's (to load a copy).")

    def handle(self, *args, file: str, slug: str | None, **options):
        if file == "-":
            import sys

            raw = sys.stdin.buffer.read()
        else:
            path = Path(file)
            if not path.is_file():
                raise CommandError(f"{file}: no such file")
            raw = path.read_bytes()
        try:
            questionnaire = questionnaire_import(raw=raw, slug=slug)
        except DefinitionError as error:
            lines = "\n".join(f"  {problem}" for problem in error.problems)
            raise CommandError(
                f"{file}: nothing was imported; {len(error.problems)} problem(s):\n{lines}"
            ) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {questionnaire.slug!r} as a draft ({questionnaire.questions.count()} questions)."
            )
        )
