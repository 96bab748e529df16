"""The signed-in user's own account: the second factor at sign-in, its setup, recovery codes, the password,
and signing out everywhere. The rules are in accounts.second_factor and accounts.services."""

from __future__ import annotations

import django_otp
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dermatox.accounts import second_factor
from dermatox.accounts.services import password_change as password_change_service
from dermatox.accounts.services import user_sign_out_everywhere
from dermatox.common.errors import InvalidInput
from dermatox.web import account_forms
from dermatox.web.forms import apply_errors


def _next_url(request: HttpRequest) -> str:
    """Where the user was going (a path of this site), or ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return ""


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the app or a recovery code."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request) or "clinic-choose")
    if not second_factor.is_enrolled(user):
        return redirect("second-factor-setup")
    form = account_forms.CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            device = second_factor.verify(actor=request.actor, user=user, code=form.cleaned_data["code"])
        except second_factor.SecondFactorLocked as exc:
            form.add_error("code", exc.message)
            status = 429
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            django_otp.login(request, device)
            if device.persistent_id.startswith("otp_static"):
                left = second_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    _("You signed in with a recovery code; %(n)s left. Make new ones on My account.")
                    % {"n": left},
                )
            return redirect(_next_url(request) or "clinic-choose")
    return render(
        request, "web/account/verify.html", {"form": form, "next": _next_url(request)}, status=status
    )


@never_cache
@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "web/account/account.html",
        {
            "enrolled": second_factor.is_enrolled(user),
            "required": second_factor.required_for(user),
            "codes_left": second_factor.recovery_codes_left(user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def second_factor_setup(request: HttpRequest) -> HttpResponse:
    """Scan (or type) the secret, confirm with the first code, then see the recovery codes once.
    An enrolled user comes here only from a verified session (the middleware sends others to verify)."""
    user = request.user
    if second_factor.is_enrolled(user) and not user.is_verified():
        return redirect("login-verify")
    form = account_forms.EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = second_factor.enrol_confirm(
                actor=request.actor, user=user, code=form.cleaned_data["code"]
            )
        except second_factor.SecondFactorLocked as exc:
            form.add_error("code", exc.message)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            django_otp.login(request, device)
            return _recovery_codes_page(
                request, codes, next_url=_next_url(request) or reverse("clinic-choose")
            )
    device = second_factor.enrol_begin(user=user)
    return render(
        request,
        "web/account/setup.html",
        {
            "form": form,
            "qr": second_factor.qr_svg(device),
            "secret": second_factor.typed_secret(device),
            "next": _next_url(request),
        },
    )


@never_cache
@login_required
@require_POST
def recovery_codes_renew(request: HttpRequest) -> HttpResponse:
    try:
        codes = second_factor.recovery_codes_renew(actor=request.actor, user=request.user)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect("account")
    return _recovery_codes_page(request, codes, next_url=reverse("account"))


def _recovery_codes_page(request: HttpRequest, codes: list[str], *, next_url: str) -> HttpResponse:
    # Rendered in the POST's answer (never_cache), not stored: the codes exist in plain text only here.
    return render(request, "web/account/recovery_codes.html", {"codes": codes, "next": next_url})


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    user_sign_out_everywhere(actor=request.actor, user=request.user)
    update_session_auth_hash(request, request.user)  # this session stays; every other one ends
    messages.success(request, _("Every other session of your account has ended."))
    return redirect("account")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    form = account_forms.PasswordChangeForm(request.POST or None)
    forced = request.user.must_change_password
    if request.method == "POST" and form.is_valid():
        try:
            password_change_service(actor=request.actor, user=request.user, **form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            update_session_auth_hash(request, request.user)  # keep this session; the others end
            messages.success(request, _("Your password was changed."))
            return redirect(_next_url(request) or ("clinic-choose" if forced else "account"))
    return render(
        request,
        "web/account/password.html",
        {"form": form, "forced": forced, "next": _next_url(request)},
    )
