"""What each email says: rendered in the invitee's language from `emails/<kind>{_subject.txt,.txt,.html}`."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation

from .models import Invitation, OutboxMessage


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str
    headers: dict[str, str] = field(default_factory=dict)


def invitation_link(invitation: Invitation) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("respondents:link", kwargs={"token": invitation.token})


def opt_out_link(invitation: Invitation) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(
        "respondents:opt_out", kwargs={"token": invitation.opt_out_token}
    )


def _nominator_name(invitation: Invitation) -> str:
    """Who recommended the invitee, only if the nominator allowed it and gave a name."""
    if not invitation.nominator_may_be_named or invitation.nominated_by is None:
        return ""
    return invitation.nominated_by.name


def email_render(invitation: Invitation, kind: str) -> RenderedEmail:
    """The invitation or a reminder for this invitee, with the opt-out link and its headers."""
    questionnaire = invitation.questionnaire
    language = invitation.language
    context = {
        "invitation": invitation,
        "language": language,
        "title": questionnaire.text("title", language),
        "organisation": questionnaire.text("organisation", language),
        "introduction": questionnaire.text("introduction", language),
        "link": invitation_link(invitation),
        "opt_out_link": opt_out_link(invitation),
        "nominator_name": _nominator_name(invitation),
    }
    template = "invitation" if kind == OutboxMessage.Kind.INVITATION else "reminder"
    with translation.override(language):
        if template == "reminder":
            context.update(_reminder_context(invitation, closing=kind == OutboxMessage.Kind.CLOSING))
        rendered = RenderedEmail(
            subject=" ".join(render_to_string(f"emails/{template}_subject.txt", context).split()),
            body_text=render_to_string(f"emails/{template}.txt", context),
            body_html=render_to_string(f"emails/{template}.html", context),
            # RFC 8058 one-click unsubscribe: mail clients show an "Unsubscribe" button that POSTs here.
            headers={
                "List-Unsubscribe": f"<{context['opt_out_link']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    return rendered


def _reminder_context(invitation: Invitation, *, closing: bool) -> dict:
    """Two wordings: not yet started, or started and how far they got; and the closing date if it nears."""
    from .selectors import response_progress

    questionnaire = invitation.questionnaire
    response = (
        getattr(invitation, "response", None) if invitation.status == Invitation.Status.STARTED else None
    )
    context = {"started": response is not None, "closing": closing, "closes_on": ""}
    if response is not None:
        progress = response_progress(response)
        finished = sum(1 for domain in progress.domains if domain.code in set(response.completed_domains))
        context.update(finished=finished, total=len(progress.domains))
    if questionnaire.closes_at:
        local = questionnaire.closes_at.astimezone(questionnaire.zone)
        context["closes_on"] = formats.date_format(local, "j F Y")  # "26 November 2026" / "26 novembre 2026"
    return context
