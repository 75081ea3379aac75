"""Load the demo consultation and a demo researcher account. Safe to run any number of times."""

import secrets
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from questionnaires.models import Membership, Questionnaire
from questionnaires.services import (
    membership_set,
    questionnaire_import,
    questionnaire_set_schedule,
    questionnaire_set_status,
)

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "radicalized-offenders-consultation.json"
DEMO_SLUG = "radicalized-offenders-consultation"
DEMO_USERNAME = "researcher"
OPEN_FOR_DAYS = 60


class Command(BaseCommand):
    help = "Load the demo consultation (open from today) and a demo researcher account, and print its login."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never on a real deployment)."
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "load_demo creates an administrator with a printed password: it runs only with DEBUG on."
            )
        user, password = self._demo_account()
        questionnaire = Questionnaire.objects.filter(slug=DEMO_SLUG).first()
        if questionnaire is None:
            questionnaire = self._load_questionnaire(user)
            self.stdout.write(
                f"Loaded the demo consultation {DEMO_SLUG!r}, open for {OPEN_FOR_DAYS} days from today."
            )
        else:
            self.stdout.write(
                f"The demo consultation {DEMO_SLUG!r} is already loaded ({questionnaire.status})."
            )
        if not Membership.objects.filter(questionnaire=questionnaire, user=user).exists():
            membership_set(
                questionnaire=questionnaire,
                user=user,
                role=Membership.Role.OWNER,
                can_view_personal_data=True,
                actor=None,
            )
        self.stdout.write(
            self.style.SUCCESS(
                "\n  Demo researcher login at http://127.0.0.1:8000/accounts/login/\n"
                f"    username: {DEMO_USERNAME}\n    password: {password}\n"
                "  (also an administrator: http://127.0.0.1:8000/admin/)\n"
            )
        )

    def _demo_account(self):
        """The password lives in var/ (git-ignored) so that every run can print it again."""
        credentials = Path(settings.VAR_DIR) / "demo-password.txt"
        User = get_user_model()
        user = User.objects.filter(username=DEMO_USERNAME).first()
        password = credentials.read_text().strip() if credentials.exists() else ""
        if user is None or not password or not user.check_password(password):
            password = secrets.token_urlsafe(12)
            credentials.parent.mkdir(parents=True, exist_ok=True)
            credentials.write_text(password + "\n")
            credentials.chmod(0o600)
            if user is None:
                user = User.objects.create_user(
                    DEMO_USERNAME, email="researcher@example.org", password=password
                )
            else:
                user.set_password(password)
            user.is_staff = user.is_superuser = True
            user.save()
        return user, password

    @transaction.atomic
    def _load_questionnaire(self, user) -> Questionnaire:
        questionnaire = questionnaire_import(raw=DEMO_FILE.read_bytes(), actor=user)
        start_of_today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        questionnaire_set_schedule(
            questionnaire=questionnaire,
            opens_at=start_of_today - timedelta(days=1),
            closes_at=start_of_today + timedelta(days=OPEN_FOR_DAYS),
            time_zone=questionnaire.time_zone,
            actor=user,
        )
        return questionnaire_set_status(
            questionnaire=questionnaire, status=Questionnaire.Status.OPEN, actor=user
        )
