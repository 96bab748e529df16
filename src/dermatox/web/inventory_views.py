"""Stock pages: lots and vials (receive, reconstitute, discard), the clinic's beyond-use policy, lot recall."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.clinical.reference import load
from dermatox.common.errors import Conflict, InvalidInput, PermissionDenied
from dermatox.inventory.models import InventoryPolicy, Lot
from dermatox.inventory.selectors import lot_recall
from dermatox.inventory.services import lot_receive, policy_for, policy_set, vial_discard, vial_open
from dermatox.web.decorators import clinic_required
from dermatox.web.forms import DATE, apply_errors


class ReceiveForm(forms.Form):
    product = forms.ChoiceField(label=_("Product"))
    lot_number = forms.CharField(label=_("Lot number"), max_length=40)
    expiry = forms.DateField(label=_("Expiry"), widget=DATE)
    vial_units = forms.IntegerField(label=_("Units per vial"), min_value=1, max_value=10000)
    vials = forms.IntegerField(label=_("Number of vials"), min_value=1, max_value=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(p["id"], p["display"]) for p in load("toxin_products.toml")]


class PolicyForm(forms.ModelForm):
    class Meta:
        model = InventoryPolicy
        fields = ["beyond_use_hours"]


def _stock_actor(request):
    if not request.actor.can(Perm.CHART_ADMINISTRATION) and not request.actor.can(Perm.MANAGE_STAFF):
        raise PermissionDenied(_("Your role does not manage toxin stock."))


@clinic_required
@require_http_methods(["GET", "POST"])
def stock(request):
    _stock_actor(request)
    form = ReceiveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            lot = lot_receive(actor=request.actor, **form.cleaned_data)
        except InvalidInput as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Received lot %(lot)s.") % {"lot": lot.lot_number})
            return redirect("stock")
    lots = (
        Lot.objects.filter(clinic=request.actor.clinic)
        .prefetch_related("vials")
        .order_by("expiry", "lot_number")
    )
    policy = policy_for(request.actor.clinic)
    audit_record(actor=request.actor, action="stock.view")
    return render(
        request,
        "web/stock.html",
        {
            "form": form,
            "lots": lots,
            "policy_form": PolicyForm(instance=policy),
            "beyond_use_hours": policy.beyond_use_hours,
        },
    )


@clinic_required
@require_POST
def vial_action(request, vial_id):
    _stock_actor(request)
    try:
        if request.POST.get("action") == "open":
            vial = vial_open(
                actor=request.actor, vial_id=vial_id, diluent_ml=request.POST.get("diluent_ml") or None
            )
            messages.success(
                request,
                _("Vial #%(id)s reconstituted: %(c)s U/0.1 mL.")
                % {
                    "id": vial.pk,
                    "c": f"{vial.units_per_0_1_ml.normalize():f}" if vial.units_per_0_1_ml else "-",
                },
            )
        elif request.POST.get("action") == "discard":
            vial_discard(actor=request.actor, vial_id=vial_id, reason=request.POST.get("reason", ""))
            messages.success(
                request, _("Vial #%(id)s discarded; what was left is recorded as waste.") % {"id": vial_id}
            )
        else:
            messages.error(request, _("Unknown action."))
    except (InvalidInput, Conflict) as exc:
        messages.error(request, exc.message)
    return redirect("stock")


@clinic_required
@require_POST
def stock_policy(request):
    if not request.actor.can(Perm.MANAGE_STAFF):
        raise PermissionDenied(_("Only a clinic manager sets the beyond-use policy."))
    form = PolicyForm(request.POST, instance=policy_for(request.actor.clinic))
    try:
        if not form.is_valid():
            raise InvalidInput.from_fields(form.errors)
        policy_set(actor=request.actor, beyond_use_hours=form.cleaned_data["beyond_use_hours"])
    except InvalidInput as exc:
        messages.error(
            request,
            _("Use reconstituted vials for (hours): ")
            + " ".join(str(m) for m in exc.fields.get("beyond_use_hours", [exc.message])),
        )
    else:
        messages.success(request, _("Policy saved."))
    return redirect("stock")


@clinic_required
def recall(request):
    lot_number = request.GET.get("lot", "").strip()
    lines = lot_recall(actor=request.actor, lot_number=lot_number) if lot_number else []
    return render(request, "web/recall.html", {"lot": lot_number, "lines": lines})
