"""Export a questionnaire's responses from the shell, as the exports page does (and audited alike)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questionnaires.models import Questionnaire
from respondents.exports import (
    FILE_WRITERS,
    STREAMED_FORMATS,
    ExportOptions,
    csv_export,
    export_audit,
    write_file,
)


class Command(BaseCommand):
    help = "Export the responses as CSV, XLSX or SPSS .sav, or the recruitment chain as an edge list."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--format", choices=[*STREAMED_FORMATS, *FILE_WRITERS], default="csv")
        parser.add_argument(
            "--output", required=True, help="The file to write ('-' for standard output, CSV only)."
        )
        parser.add_argument("--complete-only", action="store_true", help="Submitted responses only.")
        parser.add_argument("--wave", type=int, default=None)
        parser.add_argument(
            "--with-personal-data",
            action="store_true",
            help="Include names, email addresses and organisations.",
        )

    def handle(self, *args, slug, format, output, complete_only, wave, with_personal_data, **options):
        questionnaire = Questionnaire.objects.filter(slug=slug).first()
        if questionnaire is None:
            raise CommandError(f"No questionnaire has the slug {slug!r}.")
        if output == "-" and format not in STREAMED_FORMATS:
            raise CommandError("Excel and SPSS files need --output FILE.")
        export_options = ExportOptions(
            complete_only=complete_only, wave=wave, personal_data=with_personal_data
        )
        if format in STREAMED_FORMATS:
            chunks = csv_export(questionnaire=questionnaire, actor=None, fmt=format, options=export_options)
            if output == "-":
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")
                return
            with Path(output).open("w", encoding="utf-8", newline="") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            return
        export_audit(questionnaire=questionnaire, actor=None, fmt=format, options=export_options)
        rows = write_file(format, questionnaire, export_options, output)
        self.stderr.write(f"Wrote {rows} responses to {output}")
