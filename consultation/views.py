from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .two_factor import confirmed_device, qr_data_uri, safe_next, secret_of, setup_device, two_factor_accept


@never_cache
@require_GET
def health(request):
    """For load balancers: the app answers and its database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class CodeForm(forms.Form):
    code = forms.CharField(
        label="Six-digit code from your authenticator app",
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


@never_cache  # the setup page shows a secret key
@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Set up an authenticator app (the first time) or give its current code (each login)."""
    device = confirmed_device(request.user) or setup_device(request)
    setting_up = not device.confirmed
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        refusal = two_factor_accept(request, device, form.cleaned_data["code"])
        if not refusal:
            if setting_up:
                messages.success(request, "Two-factor authentication is set up for your account.")
            return redirect(safe_next(request))
        form.add_error("code", refusal)
    context = {"form": form, "setting_up": setting_up, "next": safe_next(request)}
    if setting_up:
        context.update(secret=secret_of(device), qr=qr_data_uri(device))
    return render(request, "registration/two_factor.html", context, status=400 if form.errors else 200)
