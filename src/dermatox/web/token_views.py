"""The manager's page for the clinic's API tokens: list, make one for a member, revoke, rotate.

Managers and sysadmins of the current clinic only (Perm.MANAGE_STAFF), and only that clinic's tokens
(another clinic's is a 404). A new secret is shown once, on a page that no cache may keep; the services
audit every change and the selector audits the list.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from dermatox.accounts.models import ApiToken, Membership
from dermatox.accounts.roles import Perm, Role
from dermatox.accounts.selectors import api_token_get, api_token_rows
from dermatox.accounts.token_limits import DEFAULT_LIFETIME_DAYS, MAX_GRACE_HOURS, MAX_LIFETIME_DAYS
from dermatox.accounts.tokens import API_ROLES, api_token_create, api_token_revoke, api_token_rotate
from dermatox.common.errors import Conflict, InvalidInput
from dermatox.web.decorators import clinic_required, require_perm
from dermatox.web.forms import apply_errors

GRACE_CHOICES = [(0, _("stops now")), (1, _("1 hour")), (24, _("24 hours")), (MAX_GRACE_HOURS, _("7 days"))]


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("What uses it"), max_length=100, help_text=_("e.g. Lab interface"))
    user = forms.TypedChoiceField(label=_("Acts as"), coerce=int)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(r.value, r.label) for r in Role if r in API_ROLES],
        help_text=_("The role the member holds in this clinic."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=ApiToken.Scope.choices, widget=forms.CheckboxSelectMultiple
    )
    expires_days = forms.IntegerField(
        label=_("Expires after (days)"),
        min_value=1,
        max_value=MAX_LIFETIME_DAYS,
        initial=DEFAULT_LIFETIME_DAYS,
    )

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        members = (
            Membership.objects.filter(clinic=clinic, active=True, user__is_active=True, role__in=API_ROLES)
            .select_related("user")
            .order_by("user__full_name", "user__username")
        )
        self.members = {m.user_id: m.user for m in members}
        self.fields["user"].choices = [(m.user_id, f"{m.user} ({m.get_role_display()})") for m in members]


class TokenRotateForm(forms.Form):
    grace = forms.TypedChoiceField(label=_("The old secret"), choices=GRACE_CHOICES, coerce=int, initial=0)


def _manager(request) -> None:
    require_perm(request, Perm.MANAGE_STAFF)


def _secret_page(request, token: ApiToken, secret: str, *, rotated: ApiToken | None = None):
    """The one time the secret is shown. never_cache (on the views) makes it Cache-Control: no-store."""
    return render(
        request, "web/staff/token_secret.html", {"token": token, "secret": secret, "rotated": rotated}
    )


@never_cache
@clinic_required
@require_http_methods(["GET", "POST"])
def token_list(request):
    _manager(request)
    actor = request.actor
    form = TokenCreateForm(request.POST or None, clinic=actor.clinic)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            token, secret = api_token_create(
                actor=actor,
                clinic=actor.clinic,
                user=form.members[data["user"]],
                name=data["name"],
                role=data["role"],
                scopes=data["scopes"],
                expires_at=timezone.now() + dt.timedelta(days=data["expires_days"]),
            )
        except InvalidInput as exc:
            apply_errors(form, exc, {"expires_at": "expires_days"})
        else:
            return _secret_page(request, token, secret)
    show_all = request.GET.get("all") == "1"
    rows = api_token_rows(actor=actor, include_inactive=show_all)
    return render(
        request,
        "web/staff/tokens.html",
        {"form": form, "rows": rows, "show_all": show_all, "rotate_form": TokenRotateForm()},
        status=400 if form.errors else 200,
    )


@never_cache
@clinic_required
@require_POST
def token_revoke(request, token_id):
    _manager(request)
    token = api_token_get(actor=request.actor, ref=token_id)
    api_token_revoke(actor=request.actor, token=token)
    messages.success(
        request, _("Token %(name)s (%(prefix)s…) is revoked.") % {"name": token.name, "prefix": token.prefix}
    )
    return redirect("staff-tokens")


@never_cache
@clinic_required
@require_POST
def token_rotate(request, token_id):
    _manager(request)
    token = api_token_get(actor=request.actor, ref=token_id)
    form = TokenRotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how long the old secret keeps working."))
        return redirect("staff-tokens")
    try:
        new, secret = api_token_rotate(
            actor=request.actor, token=token, grace_hours=form.cleaned_data["grace"]
        )
    except (InvalidInput, Conflict) as exc:
        messages.error(request, exc.message)
        return redirect("staff-tokens")
    token.refresh_from_db()
    return _secret_page(request, new, secret, rotated=token)
