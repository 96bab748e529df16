"""The staff page (/staff/) of a clinic's managers and system administrators: members with role, state and
second factor; password and second-factor resets, deactivation, and the clinic's second-factor rule.
Who may do what to whom is decided in accounts.staff (the page shows its reasons)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dermatox.accounts import second_factor, staff
from dermatox.accounts.roles import Perm
from dermatox.accounts.selectors import staff_member_get, staff_of_clinic
from dermatox.common.errors import InvalidInput
from dermatox.web.decorators import clinic_required, require_perm


@clinic_required
def staff_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, Perm.MANAGE_STAFF)
    return render(
        request,
        "web/staff/members.html",
        {"rows": staff_of_clinic(request.actor), "clinic": request.actor.clinic},
    )


@never_cache
@clinic_required
@require_POST
def staff_reset_password(request: HttpRequest, user_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_STAFF)
    member = staff_member_get(request.actor, user_id)
    password = staff.password_reset(actor=request.actor, user=member)
    # Shown in this answer only (never cached, never stored in clear): hand it over in person.
    return render(request, "web/staff/temporary_password.html", {"member": member, "password": password})


@clinic_required
@require_POST
def staff_reset_second_factor(request: HttpRequest, user_id: int) -> HttpResponse:
    require_perm(request, Perm.MANAGE_STAFF)
    member = staff_member_get(request.actor, user_id)
    second_factor.second_factor_reset(actor=request.actor, user=member)
    messages.success(
        request,
        _("%(name)s's second factor was removed; they set up a new app at their next sign-in.")
        % {"name": member},
    )
    return redirect("staff-list")


def _membership_change(request: HttpRequest, user_id: int, change, done: str) -> HttpResponse:
    """Deactivate or reactivate a member's work in this clinic; a refusal is shown, not raised."""
    require_perm(request, Perm.MANAGE_STAFF)
    member = staff_member_get(request.actor, user_id)
    try:
        change(actor=request.actor, user=member)
    except InvalidInput as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done % {"name": member})
    return redirect("staff-list")


@clinic_required
@require_POST
def staff_deactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _membership_change(
        request, user_id, staff.member_deactivate, _("%(name)s can no longer work in this clinic.")
    )


@clinic_required
@require_POST
def staff_reactivate(request: HttpRequest, user_id: int) -> HttpResponse:
    return _membership_change(
        request, user_id, staff.member_reactivate, _("%(name)s can work in this clinic again.")
    )


@clinic_required
@require_POST
def staff_second_factor(request: HttpRequest) -> HttpResponse:
    """The clinic's rule: a second factor for clinical and administrative staff, or not."""
    require_perm(request, Perm.MANAGE_STAFF)
    required = request.POST.get("required") == "1"
    staff.clinic_second_factor_set(actor=request.actor, clinic=request.actor.clinic, required=required)
    if required:
        messages.success(request, _("Clinical and administrative staff now sign in with a second factor."))
    else:
        messages.success(request, _("A second factor is no longer required in this clinic."))
    return redirect("staff-list")
