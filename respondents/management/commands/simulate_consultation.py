import time

from django.core.management.base import BaseCommand, CommandError

from questionnaires.models import Questionnaire
from respondents.simulation import simulate_consultation


class Command(BaseCommand):
    help = (
        "Fill a questionnaire with synthetic invitations in chains across 15 countries, partial and "
        "complete responses, reminders and open answers (for demos and scale tests; never on real data)."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--respondents", type=int, default=80)
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed: the same seed gives the same data"
        )
        parser.add_argument("--days", type=int, default=30, help="spread over this many past days")
        parser.add_argument("--if-empty", action="store_true", help="only if it has no invitation yet")
        parser.add_argument(
            "--bulk-load",
            action="store_true",
            help="PostgreSQL: check keys and build indexes once at the end; much faster for large runs, "
            "but every other session waits until the run commits (a database of its own only)",
        )

    def handle(
        self,
        *args,
        slug: str,
        respondents: int,
        seed: int,
        days: int,
        if_empty: bool,
        bulk_load: bool,
        **options,
    ):
        questionnaire = Questionnaire.objects.filter(slug=slug).first()
        if questionnaire is None:
            raise CommandError(f"No questionnaire has the slug {slug!r}.")
        if if_empty and questionnaire.invitations.exists():
            self.stdout.write(f"{slug} already has invitations: nothing simulated.")
            return
        if respondents < 1:
            raise CommandError("--respondents must be at least 1.")
        started = time.perf_counter()
        created = simulate_consultation(
            questionnaire, respondents=respondents, seed=seed, days=days, bulk_load=bulk_load
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {created:,} simulated invitations to {slug} in {time.perf_counter() - started:.1f} s."
            )
        )
