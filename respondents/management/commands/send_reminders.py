from django.core.management.base import BaseCommand, CommandError

from questionnaires.models import Questionnaire
from respondents.reminders import reminders_preview, reminders_queue


class Command(BaseCommand):
    help = (
        "Queue the reminders now due (what the beat schedule does every 15 minutes), for one "
        "questionnaire or every open one. With --dry-run, print who would be reminded and why."
    )

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", help="one questionnaire (default: every open one)")
        parser.add_argument("--dry-run", action="store_true", help="change nothing; explain")

    def handle(self, *args, slug: str | None, dry_run: bool, **options):
        if slug:
            questionnaires = list(Questionnaire.objects.filter(slug=slug))
            if not questionnaires:
                raise CommandError(f"No questionnaire has the slug {slug!r}.")
        else:
            questionnaires = list(Questionnaire.objects.filter(status=Questionnaire.Status.OPEN))
            if not questionnaires:
                self.stdout.write("No questionnaire is open: nothing to remind.")
        for questionnaire in questionnaires:
            if dry_run:
                self._explain(questionnaire)
            else:
                count = reminders_queue(questionnaire)
                self.stdout.write(f"{questionnaire.slug}: queued {count} reminder(s).")

    def _explain(self, questionnaire: Questionnaire) -> None:
        reason, lines = reminders_preview(questionnaire)
        policy = questionnaire.reminder_policy
        self.stdout.write(
            f"{questionnaire.slug}: reminders {list(policy.after_days)} days after the invitation, "
            f"at most {policy.limit}, closing soon {policy.closing_soon_days} day(s) before closing; "
            f"mail hours {policy.mail_hours[0]}:00-{policy.mail_hours[1]}:00 {questionnaire.time_zone}, "
            f"weekdays {list(policy.mail_weekdays)} (0 is Monday)."
        )
        if reason:
            self.stdout.write(f"  nothing would be sent now: {reason}.")
            return
        if not lines:
            self.stdout.write("  nobody is due a reminder now.")
        for line in lines:
            self.stdout.write(f"  {line.label}: {line.why}")
        self.stdout.write(f"  {len(lines)} reminder(s) would be queued (dry run: nothing was changed).")
