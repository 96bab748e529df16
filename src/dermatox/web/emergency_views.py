"""Emergency access (break-the-glass) pages: the physician's request form and the manager's list.

The grant itself widens one read path only (`patient_get(..., emergency_read=True)`); these pages start it,
end it, and show who used it.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dermatox.common.errors import InvalidInput, NotFound, PermissionDenied
from dermatox.patients.emergency_access import (
    default_minutes,
    emergency_access_begin,
    emergency_access_check,
    emergency_access_end,
    max_minutes,
)
from dermatox.patients.selectors import emergency_accesses_for_clinic, emergency_accesses_mine
from dermatox.web import forms
from dermatox.web.decorators import clinic_required


@clinic_required
@require_http_methods(["GET", "POST"])
def emergency_access(request):
    """Ask for a patient of a sister clinic by exact number, with a reason; on success, open their chart."""
    actor = request.actor
    refusal = emergency_access_check(actor)
    if refusal:
        raise PermissionDenied(refusal)
    initial = {"patient_ref": request.GET.get("ref", "")[:64], "minutes": default_minutes()}
    form = forms.EmergencyAccessForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            grant = emergency_access_begin(actor=actor, **form.cleaned_data)
        except InvalidInput as exc:
            forms.apply_errors(form, exc)
        except NotFound as exc:
            form.add_error("patient_ref", exc.message)
        else:
            messages.warning(
                request, _("Emergency access opened. It is read-only and recorded in the audit trail.")
            )
            return redirect("patient-detail", patient_id=grant.patient_id)
    return render(
        request,
        "web/emergency_access.html",
        {"form": form, "grants": emergency_accesses_mine(actor), "max_minutes": max_minutes()},
    )


@clinic_required
@require_POST
def emergency_access_stop(request, access_id):
    emergency_access_end(actor=request.actor, access_id=access_id)
    messages.success(request, _("Emergency access ended."))
    return redirect("emergency-access")


@clinic_required
def emergency_access_list(request):
    """For managers: every emergency access into the clinic's patients and by its physicians."""
    grants = emergency_accesses_for_clinic(actor=request.actor)
    return render(request, "web/emergency_access_list.html", {"grants": grants})
