"""Who may do what on a questionnaire. Roles are per questionnaire; the README has the matrix."""

from __future__ import annotations

from enum import StrEnum

from .models import Membership, Questionnaire

Role = Membership.Role


class Action(StrEnum):
    VIEW = "view"  # the questionnaire's pages, dashboards and results
    AUTHOR = "author"  # edit the definition, import, export the definition
    CHANGE_STATUS = "change_status"  # open, close, reopen, extend
    INVITE = "invite"  # add seeds, re-send, revoke
    REMIND = "remind"
    EXPORT = "export"  # pseudonymous answers
    CODE = "code"  # tag open answers with themes
    VIEW_PERSONAL_DATA = "view_personal_data"  # names and emails, on screen and in exports
    MANAGE_MEMBERS = "manage_members"
    PURGE_PERSONAL_DATA = "purge_personal_data"  # owners only, once the questionnaire is closed


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.OWNER: frozenset(Action) - {Action.VIEW_PERSONAL_DATA},
    Role.RESEARCHER: frozenset(
        {
            Action.VIEW,
            Action.AUTHOR,
            Action.CHANGE_STATUS,
            Action.INVITE,
            Action.REMIND,
            Action.EXPORT,
            Action.CODE,
        }
    ),
    Role.MONITOR: frozenset({Action.VIEW}),
}


def membership_of(user, questionnaire: Questionnaire) -> Membership | None:
    if not user.is_authenticated:
        return None
    cache = getattr(user, "_membership_cache", None)
    if cache is None:
        cache = user._membership_cache = {}
    if questionnaire.pk not in cache:
        cache[questionnaire.pk] = Membership.objects.filter(questionnaire=questionnaire, user=user).first()
    return cache[questionnaire.pk]


def allowed_actions(user, questionnaire: Questionnaire) -> frozenset[Action]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(Action)
    membership = membership_of(user, questionnaire)
    if membership is None:
        return frozenset()
    actions = ROLE_ACTIONS[membership.role]
    # Names and emails are a permission of their own, granted per member (never to monitors).
    if membership.can_view_personal_data and membership.role != Role.MONITOR:
        actions = actions | {Action.VIEW_PERSONAL_DATA}
    return actions


def can(user, questionnaire: Questionnaire, action: Action) -> bool:
    return action in allowed_actions(user, questionnaire)
