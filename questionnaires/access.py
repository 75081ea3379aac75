"""Loading a questionnaire for a staff page, with the permission check in one place."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import Questionnaire
from .permissions import Action, allowed_actions


def questionnaire_action_required(action: Action):
    """Anonymous users go to the login page; non-members get 404 (the slug's existence is not
    revealed); members without the right get 403. The view receives the questionnaire."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, slug: str, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            questionnaire = get_object_or_404(Questionnaire, slug=slug)
            actions = allowed_actions(request.user, questionnaire)
            if not actions:
                raise Http404("No such questionnaire.")
            if action not in actions:
                raise PermissionDenied(f"Your role on this questionnaire does not allow this ({action}).")
            request.questionnaire_actions = actions
            return view(request, questionnaire, *args, **kwargs)

        return wrapper

    return decorator
