"""Stock writes. Deduction locks the vial row (PostgreSQL SELECT ... FOR UPDATE; SQLite's IMMEDIATE
transactions serialise writers), so two nurses charting from one vial at once can never take it below zero."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from dermatox.accounts.roles import Perm
from dermatox.audit.actions import action as audit_action
from dermatox.audit.services import audit_record
from dermatox.audit.writes import require, require_same_clinic, validate
from dermatox.clinical.reference import by_id
from dermatox.clinical.toxin.reconstitution import ToxinInputError, reconstitute
from dermatox.common.context import Actor
from dermatox.common.errors import Conflict, InvalidInput, NotFound
from dermatox.common.text import clean_line
from dermatox.inventory.error_codes import StockCode
from dermatox.inventory.models import InventoryPolicy, Lot, Vial, Withdrawal
from dermatox.patients.models import Patient

MAX_VIALS_PER_DELIVERY = 500


def _plain(units: Decimal) -> str:
    """40.000 -> '40', 2.500 -> '2.5' (never '4E+1')."""
    return f"{units.normalize():f}"


def _units(value, field: str) -> Decimal:
    try:
        units = Decimal(str(value))
    except InvalidOperation:
        units = None
    if units is None or not units.is_finite() or units <= 0 or units.as_tuple().exponent < -3:
        raise InvalidInput(
            f"{field}: must be a number greater than 0",
            fields={field: ["must be a number greater than 0 (at most 3 decimals)"]},
        )
    return units


@transaction.atomic
def lot_receive(
    *, actor: Actor, product: str, lot_number: str, expiry: dt.date, vial_units: int, vials: int
) -> Lot:
    require(actor, Perm.CHART_ADMINISTRATION)
    try:
        ready = by_id("toxin_products.toml").get(product, {}).get("ready_to_use", False)
        reconstitute(product, vial_units, None if ready else 1)
    except ToxinInputError as exc:
        raise InvalidInput(str(exc), fields={exc.field: [exc.rule]}) from exc
    lot_number = clean_line(lot_number or "").strip()
    if not 1 <= len(lot_number) <= 40:
        raise InvalidInput("lot_number: required", fields={"lot_number": ["1 to 40 characters"]})
    if expiry < timezone.localdate():
        raise InvalidInput(
            "expiry: already expired", fields={"expiry": ["the lot has already expired: do not receive it"]}
        )
    if not 1 <= vials <= MAX_VIALS_PER_DELIVERY:
        raise InvalidInput(
            "vials: out of range", fields={"vials": [f"must be 1 to {MAX_VIALS_PER_DELIVERY}"]}
        )
    try:
        with transaction.atomic():
            lot = Lot.objects.create(
                clinic=actor.clinic,
                product=product,
                lot_number=lot_number,
                expiry=expiry,
                received_by=actor.acting_user,
            )
    except IntegrityError as exc:
        raise InvalidInput(
            "lot_number: already received", fields={"lot_number": ["this lot is already in stock"]}
        ) from exc
    bulk_create_with_history(
        [Vial(lot=lot, vial_units=vial_units, remaining_units=vial_units) for _ in range(vials)],
        Vial,
        default_user=actor.acting_user,
    )
    audit_record(
        actor=actor,
        action="lot.receive",
        obj=lot,
        detail={"product": product, "vials": vials, "vial_units": vial_units},
    )
    return lot


def _locked_vial(actor: Actor, vial_id) -> Vial:
    vial = Vial.objects.select_for_update(of=("self",)).select_related("lot").filter(pk=vial_id).first()
    if vial is None:
        raise NotFound("No such vial")
    require_same_clinic(actor, vial.lot.clinic_id)
    return vial


def _take(actor: Actor, vial: Vial, amount: Decimal, at: dt.datetime) -> None:
    """Take units from a locked vial: only from an open vial, never after expiry or beyond-use, never below 0."""
    if vial.state != Vial.State.OPEN:
        raise Conflict(
            f"Vial #{vial.pk} is {vial.get_state_display().lower()}: open (reconstitute) it first",
            code=StockCode.VIAL_NOT_OPEN,
        )
    if vial.lot.expiry < timezone.localdate(at):
        raise Conflict(
            f"Lot {vial.lot.lot_number} expired on {vial.lot.expiry}: never use it",
            code=StockCode.VIAL_EXPIRED,
        )
    if vial.beyond_use_at and at > vial.beyond_use_at:
        raise Conflict(
            f"Vial #{vial.pk} was usable until {vial.beyond_use_at:%Y-%m-%d %H:%M}: discard it",
            code=StockCode.VIAL_BEYOND_USE,
        )
    if amount > vial.remaining_units:
        raise Conflict(
            f"Vial #{vial.pk} has {_plain(vial.remaining_units)} U left, not {_plain(amount)} U",
            code=StockCode.VIAL_INSUFFICIENT,
        )
    vial.remaining_units -= amount
    if vial.remaining_units == 0:
        vial.state = Vial.State.EMPTY
    vial._history_user = actor.acting_user
    vial.save(update_fields=["remaining_units", "state"])


def policy_for(clinic) -> InventoryPolicy:
    """The clinic's saved policy, or an unsaved one holding the defaults."""
    return InventoryPolicy.objects.filter(clinic=clinic).first() or InventoryPolicy(clinic=clinic)


def beyond_use_hours(clinic) -> int:
    return policy_for(clinic).beyond_use_hours


@transaction.atomic
def policy_set(*, actor: Actor, beyond_use_hours) -> InventoryPolicy:
    """The clinic's beyond-use policy (managers): validated by the model's bounds, versioned and audited
    together (InvalidInput naming `beyond_use_hours` otherwise)."""
    require(actor, Perm.MANAGE_STAFF)
    policy = policy_for(actor.clinic)
    policy.beyond_use_hours = beyond_use_hours
    validate(policy)
    policy._history_user = actor.acting_user
    policy.save()
    audit_record(actor=actor, action="stock.policy", detail={"beyond_use_hours": policy.beyond_use_hours})
    return policy


@transaction.atomic
def vial_open(*, actor: Actor, vial_id, diluent_ml, at: dt.datetime | None = None) -> Vial:
    """Reconstitute: record diluent, time and who; the beyond-use time follows the clinic's policy."""
    require(actor, Perm.CHART_ADMINISTRATION)
    vial = _locked_vial(actor, vial_id)
    if vial.state != Vial.State.SEALED:
        raise Conflict(
            f"Vial #{vial.pk} is already {vial.get_state_display().lower()}", code=StockCode.VIAL_NOT_SEALED
        )
    at = at or timezone.now()
    if vial.lot.expiry < timezone.localdate(at):
        raise Conflict(
            f"Lot {vial.lot.lot_number} expired on {vial.lot.expiry}: never use it",
            code=StockCode.VIAL_EXPIRED,
        )
    if diluent_ml not in (None, ""):
        try:
            volume = Decimal(str(diluent_ml).replace(",", "."))
        except InvalidOperation:
            volume = None
        if (
            volume is None
            or not volume.is_finite()
            or volume.as_tuple().exponent < -3
            or not Decimal("0.1") <= volume <= 100
        ):
            raise InvalidInput(
                "diluent_ml: out of range",
                fields={"diluent_ml": ["must be 0.1 to 100 mL (at most 3 decimals)"]},
            )
    try:
        reconstitute(
            vial.lot.product, vial.vial_units, None if diluent_ml in (None, "") else float(diluent_ml)
        )
    except (ToxinInputError, ValueError) as exc:
        field, rule = (
            (exc.field, exc.rule) if isinstance(exc, ToxinInputError) else ("diluent_ml", "must be a number")
        )
        raise InvalidInput(f"{field}: {rule}", fields={field: [rule]}) from exc
    vial.state = Vial.State.OPEN
    vial.diluent_ml = None if diluent_ml in (None, "") else Decimal(str(diluent_ml))
    vial.opened_at = at
    vial.opened_by = actor.acting_user
    vial.beyond_use_at = at + dt.timedelta(hours=beyond_use_hours(vial.lot.clinic))
    vial._history_user = actor.acting_user
    vial.save()
    audit_record(
        actor=actor,
        action="vial.open",
        obj=vial,
        detail={"diluent_ml": str(vial.diluent_ml), "beyond_use": vial.beyond_use_at.isoformat()},
    )
    return vial


@transaction.atomic
def vial_deduct(
    *,
    actor: Actor,
    vial_id,
    units,
    patient: Patient | None = None,
    reason: str = "administered",
    at: dt.datetime | None = None,
) -> Withdrawal:
    """Take units from an open vial. Refuses an expired or beyond-use vial and never goes below zero."""
    require(actor, Perm.CHART_ADMINISTRATION)
    amount = _units(units, "units")
    vial = _locked_vial(actor, vial_id)
    at = at or timezone.now()
    if patient is not None:
        require_same_clinic(actor, patient.clinic_id)
    if reason not in Withdrawal.Reason.values:
        raise InvalidInput(
            "reason: unknown", fields={"reason": [f"must be one of {', '.join(Withdrawal.Reason.values)}"]}
        )
    _take(actor, vial, amount, at)
    withdrawal = Withdrawal.objects.create(
        vial=vial, patient=patient, units=amount, reason=reason, at=at, by=actor.acting_user
    )
    audit_record(
        actor=actor,
        action=audit_action("vial.{0}", reason),
        obj=withdrawal,
        patient_id=patient.pk if patient else None,
        detail={"vial": vial.pk, "units": str(amount)},
    )
    return withdrawal


@transaction.atomic
def vial_discard(*, actor: Actor, vial_id, reason: str) -> Vial:
    """Discard a vial; whatever is left is recorded as waste."""
    require(actor, Perm.CHART_ADMINISTRATION)
    vial = _locked_vial(actor, vial_id)
    if vial.state == Vial.State.DISCARDED:
        return vial
    if not (reason or "").strip():
        raise InvalidInput("reason: required", fields={"reason": ["say why the vial is discarded"]})
    if vial.remaining_units > 0:
        Withdrawal.objects.create(
            vial=vial, units=vial.remaining_units, reason="wasted", at=timezone.now(), by=actor.acting_user
        )
    vial.remaining_units = Decimal(0)
    vial.state = Vial.State.DISCARDED
    vial._history_user = actor.acting_user
    vial.save(update_fields=["remaining_units", "state"])
    audit_record(actor=actor, action="vial.discard", obj=vial, detail={"reason": reason.strip()[:200]})
    return vial


@transaction.atomic
def vial_administer(
    *, actor: Actor, vial_id, patient: Patient, doses: list, at: dt.datetime | None = None
) -> list[Withdrawal]:
    """Several doses to one patient from one vial, all or nothing, under one lock (a signed session)."""
    require(actor, Perm.CHART_ADMINISTRATION)
    amounts = [_units(d, "units") for d in doses]
    if not amounts:
        raise InvalidInput("doses: none", fields={"doses": ["at least one dose"]})
    vial = _locked_vial(actor, vial_id)
    require_same_clinic(actor, patient.clinic_id)
    at = at or timezone.now()
    total = sum(amounts)
    _take(actor, vial, total, at)
    withdrawals = bulk_create_with_history(
        [
            Withdrawal(
                vial=vial, patient=patient, units=a, reason="administered", at=at, by=actor.acting_user
            )
            for a in amounts
        ],
        Withdrawal,
        default_user=actor.acting_user,
    )
    audit_record(
        actor=actor,
        action="vial.administered",
        obj=vial,
        patient_id=patient.pk,
        detail={"doses": len(amounts), "units": _plain(total)},
    )
    return withdrawals


# --- corrections after a signed session was withdrawn (treatments.actions.SessionStockCorrection) ----------


def return_refusal(vial: Vial, units: Decimal, at: dt.datetime | None = None) -> str:
    """Why `units` cannot go back into this vial now ("" when they can): only into a vial still usable."""
    at = at or timezone.now()
    if vial.state == Vial.State.DISCARDED:
        return _("The vial was discarded: record the units as waste.")
    if vial.lot.expiry < timezone.localdate(at):
        return _("The vial's lot has expired: record the units as waste.")
    if vial.beyond_use_at and at > vial.beyond_use_at:
        return _("The vial is past its beyond-use time: record the units as waste.")
    if vial.remaining_units + units > vial.vial_units:
        return _("The vial would hold more than its %(units)s U: record the units as waste.") % {
            "units": vial.vial_units
        }
    return ""


@transaction.atomic
def vial_return(*, actor: Actor, vial_id, units: Decimal, session) -> Vial:
    """Put a withdrawn session's units back into its vial (they were never drawn up)."""
    require(actor, Perm.CHART_ADMINISTRATION)
    vial = _locked_vial(actor, vial_id)
    refusal = return_refusal(vial, units)
    if refusal:
        raise Conflict(refusal, code=StockCode.VIAL_RETURN_REFUSED)
    vial.remaining_units += units
    if vial.state == Vial.State.EMPTY:
        vial.state = Vial.State.OPEN
    vial._history_user = actor.acting_user
    vial.save(update_fields=["remaining_units", "state"])
    audit_record(
        actor=actor,
        action="vial.returned",
        obj=vial,
        patient_id=session.patient_id,
        detail={"vial": vial.pk, "units": _plain(units), "session": session.pk},
    )
    return vial


@transaction.atomic
def vial_record_waste(*, actor: Actor, vial_id, units: Decimal, session) -> Withdrawal:
    """Record a withdrawn session's units as wasted: they left the vial when it was signed, so nothing more
    is taken from it; the waste row makes the vial's withdrawals add up again."""
    require(actor, Perm.CHART_ADMINISTRATION)
    vial = _locked_vial(actor, vial_id)
    withdrawal = Withdrawal(vial=vial, units=units, reason="wasted", at=timezone.now(), by=actor.acting_user)
    withdrawal._history_user = actor.acting_user
    withdrawal.save()
    audit_record(
        actor=actor,
        action="vial.wasted",
        obj=withdrawal,
        patient_id=session.patient_id,
        detail={"vial": vial.pk, "units": _plain(units), "session": session.pk},
    )
    return withdrawal
