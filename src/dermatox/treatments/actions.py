"""What can be done to a toxin session, as actions: `check()` says whether the action is allowed now and, if
not, why (the page shows or hides its controls from it), `execute()` does it in one transaction and writes
its audit rows, after checking again on the locked row. The web pages and the REST API call the same
actions (the command line has no session commands).

Withdrawing (marking entered in error) a signed session withdraws what signing created with it: every
administration (the injection point's dose and its vial withdrawal, with the same who, when and why) and
the reviews its protocol scheduled that are open or booked (a booked review's appointment stays: the
session's page lists it for front desk to cancel; cancelling it no longer reopens the review). From then
on no reader counts the doses (the 12-week interval, the label maximum, outcome figures, FHIR, exports),
while lot recall still lists them, marked. The units are *not* returned to the vial: whether they were
drawn up is a fact only staff know, so `SessionStockCorrection` records, once, that they went back into
the vial or were wasted."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from dermatox.accounts.roles import Perm
from dermatox.audit.services import audit_record
from dermatox.audit.writes import mark_entered_in_error
from dermatox.common.context import Actor
from dermatox.common.errors import CommonCode, Conflict, InvalidInput, NotFound, PermissionDenied
from dermatox.inventory.error_codes import StockCode
from dermatox.treatments.error_codes import TreatmentCode
from dermatox.treatments.models import FollowUp, InjectionPoint, StockCorrection, TreatmentSession


@dataclass(frozen=True)
class Check:
    """Whether an action may run now; if not, why, as a sentence for the user and an error code."""

    allowed: bool
    reason: str = ""
    code: StrEnum | str = ""

    def __bool__(self) -> bool:
        return self.allowed

    def raise_if_refused(self) -> None:
        if self.allowed:
            return
        if self.code == CommonCode.PERMISSION_DENIED:
            raise PermissionDenied(self.reason, code=self.code)
        if self.code == CommonCode.NOT_FOUND:
            raise NotFound(self.reason, code=self.code)
        if self.code == CommonCode.INVALID:
            raise InvalidInput(self.reason)
        raise Conflict(self.reason, code=self.code)


ALLOWED = Check(True)


def _may_chart(actor: Actor, session: TreatmentSession) -> Check:
    return _may_chart_for(actor, session.patient)


def _may_chart_for(actor: Actor, patient) -> Check:
    if not actor.can(Perm.CHART_ADMINISTRATION):
        return Check(False, _("Your role may not chart toxin sessions."), CommonCode.PERMISSION_DENIED)
    if actor.role != "system" and (actor.clinic is None or actor.clinic.pk != patient.clinic_id):
        return Check(False, _("This patient belongs to another clinic."), CommonCode.PERMISSION_DENIED)
    return ALLOWED


def draft_check(actor: Actor, session: TreatmentSession) -> Check:
    """May the actor change this session now: charting role, its clinic, a draft not withdrawn."""
    allowed = _may_chart(actor, session)
    if not allowed:
        return allowed
    if session.is_entered_in_error:
        return Check(
            False,
            _("This session was marked entered in error: chart a new one."),
            TreatmentCode.SESSION_ENTERED_IN_ERROR,
        )
    if session.status != TreatmentSession.Status.DRAFT:
        return Check(
            False,
            _("A signed session cannot be changed: mark it entered in error and chart a new one."),
            TreatmentCode.SESSION_SIGNED,
        )
    return ALLOWED


def sign_check(session: TreatmentSession, points: list, plan: dict | None) -> Check:
    """Whether this plan can be signed from the session's vial: what the page shows beside Sign and what
    signing refuses, in the same words. (Warnings are signed with a reason each; that is the signer's.)"""
    if session.vial_id is None:
        return Check(False, _("Choose the vial the doses come from."), CommonCode.INVALID)
    if not points:
        return Check(False, _("Chart at least one point."), CommonCode.INVALID)
    if plan is None or plan.get("status") == "blocked":
        return Check(
            False, _("The plan check blocks signing (see the plan check)."), TreatmentCode.PLAN_BLOCKED
        )
    total = sum((Decimal(str(p.units)) for p in points), Decimal(0))
    vial = session.vial
    if total > vial.remaining_units:
        return Check(
            False,
            _(
                "The plan takes %(units)s U and vial #%(vial)s has %(left)s U left: choose a vial that "
                "holds enough, or chart fewer units."
            )
            % {
                "units": f"{total.normalize():f}",
                "vial": vial.pk,
                "left": f"{vial.remaining_units.normalize():f}",
            },
            StockCode.VIAL_INSUFFICIENT,
        )
    return ALLOWED


class SessionCreate:
    """Start a draft from a protocol for a patient (its points laid out on the maps)."""

    def __init__(self, actor: Actor, patient):
        self.actor, self.patient = actor, patient

    def check(self) -> Check:
        return _may_chart_for(self.actor, self.patient)

    def execute(self, *, protocol: str, vial_id=None) -> TreatmentSession:
        from dermatox.treatments.services import session_create

        self.check().raise_if_refused()
        return session_create(actor=self.actor, patient=self.patient, protocol=protocol, vial_id=vial_id)


class PointChart:
    """Chart a draft's points: add, move or re-dose one (`save`), remove one (`remove`)."""

    def __init__(self, actor: Actor, session: TreatmentSession):
        self.actor, self.session = actor, session

    def check(self) -> Check:
        return draft_check(self.actor, self.session)

    def save(self, data: dict, point=None):
        from dermatox.treatments.services import point_save

        return point_save(actor=self.actor, session=self.session, data=data, point=point)

    def remove(self, point) -> None:
        from dermatox.treatments.services import point_remove

        point_remove(actor=self.actor, session=self.session, point=point)


class VialChoose:
    """Choose the open vial of the session's product that the doses come from."""

    def __init__(self, actor: Actor, session: TreatmentSession):
        self.actor, self.session = actor, session

    def check(self) -> Check:
        return draft_check(self.actor, self.session)

    def execute(self, *, vial_id) -> TreatmentSession:
        from dermatox.treatments.services import session_set_vial

        return session_set_vial(actor=self.actor, session=self.session, vial_id=vial_id)


class SessionSign:
    """Sign a draft: `check(plan, points)` for the page; `execute` is treatments.services.session_sign,
    which runs the same checks on the locked row."""

    def __init__(self, actor: Actor, session: TreatmentSession):
        self.actor, self.session = actor, session

    def check(self, plan: dict | None, points: list) -> Check:
        allowed = draft_check(self.actor, self.session)
        return sign_check(self.session, points, plan) if allowed else allowed

    def execute(self, *, acknowledgements=None) -> TreatmentSession:
        from dermatox.treatments.services import session_sign

        return session_sign(actor=self.actor, session=self.session, acknowledgements=acknowledgements)


def _locked(session: TreatmentSession) -> TreatmentSession:
    return (
        TreatmentSession.objects.select_for_update(of=("self",))
        .select_related("patient", "vial__lot")
        .get(pk=session.pk)
    )


def withdrawn_administrations(session: TreatmentSession):
    """The injection points of a withdrawn signed session that were given (each with its vial withdrawal)."""
    return InjectionPoint.objects.filter(session_id=session.pk, withdrawal__isnull=False).select_related(
        "withdrawal"
    )


class SessionWithdraw:
    """Mark a session entered in error, with what signing created (see the module's docstring)."""

    def __init__(self, actor: Actor, session: TreatmentSession):
        self.actor, self.session = actor, session

    def check(self) -> Check:
        allowed = _may_chart(self.actor, self.session)
        if not allowed:
            return allowed
        if self.session.is_entered_in_error:
            return Check(
                False,
                _("This session is already marked entered in error."),
                TreatmentCode.SESSION_ENTERED_IN_ERROR,
            )
        return ALLOWED

    @transaction.atomic
    def execute(self, *, reason: str) -> TreatmentSession:
        self.session = session = _locked(self.session)
        self.check().raise_if_refused()
        # The reviews are locked before the audit head (as booking locks review, then head): no deadlock.
        reviews = list(
            session.follow_ups.current()
            .select_for_update()
            .filter(status__in=(FollowUp.Status.OPEN, FollowUp.Status.BOOKED))
        )
        mark_entered_in_error(self.actor, session, reason=reason)
        if session.status != TreatmentSession.Status.SIGNED:
            return session
        stamp = {
            "entered_in_error_at": session.entered_in_error_at,
            "entered_in_error_by": session.entered_in_error_by,
            "entered_in_error_reason": session.entered_in_error_reason,
        }
        points = list(withdrawn_administrations(session).filter(entered_in_error_at__isnull=True))
        withdrawals = [p.withdrawal for p in points]
        for record in [*points, *withdrawals]:
            for name, value in stamp.items():
                setattr(record, name, value)
        user = self.actor.acting_user
        fields = list(stamp)
        if points:
            bulk_update_with_history(points, InjectionPoint, fields, default_user=user)
            bulk_update_with_history(withdrawals, type(withdrawals[0]), fields, default_user=user)
        for review in reviews:
            for name, value in stamp.items():
                setattr(review, name, value)
        if reviews:
            bulk_update_with_history(reviews, FollowUp, fields, default_user=user)
        audit_record(
            actor=self.actor,
            action="session.administrations_withdrawn",
            obj=session,
            detail={
                "administrations": len(points),
                "units": f"{sum((w.units for w in withdrawals), Decimal(0)).normalize():f}",
                "vial": session.vial_id,
                "follow_ups": [r.pk for r in reviews],
            },
        )
        return session


class SessionStockCorrection:
    """After a signed session is withdrawn: its units went back into the vial (`returned`: the doses were
    never drawn up) or were drawn and thrown away (`wasted`). Recorded once, through the stock service."""

    def __init__(self, actor: Actor, session: TreatmentSession):
        self.actor, self.session = actor, session

    def units(self) -> Decimal:
        """The units the session's doses took (summed once: the page asks for them and for the check)."""
        if not hasattr(self, "_units"):
            total = withdrawn_administrations(self.session).aggregate(u=Sum("withdrawal__units"))["u"]
            self._units = total or Decimal(0)
        return self._units

    def check(self, kind: str | None = None) -> Check:
        allowed = _may_chart(self.actor, self.session)
        if not allowed:
            return allowed
        session = self.session
        if not session.is_entered_in_error or session.status != TreatmentSession.Status.SIGNED:
            return Check(
                False,
                _("Only a signed session marked entered in error has units to correct."),
                TreatmentCode.NO_CORRECTION,
            )
        if session.stock_correction:
            return Check(
                False,
                _("The units of this session were already corrected: %(how)s.")
                % {"how": session.get_stock_correction_display().lower()},
                TreatmentCode.STOCK_ALREADY_CORRECTED,
            )
        if kind == StockCorrection.RETURNED:
            from dermatox.inventory.services import return_refusal

            refusal = return_refusal(session.vial, self.units())
            if refusal:
                return Check(False, refusal, StockCode.VIAL_RETURN_REFUSED)
        return ALLOWED

    @transaction.atomic
    def execute(self, *, kind: str) -> TreatmentSession:
        from dermatox.inventory.services import vial_record_waste, vial_return

        if kind not in StockCorrection.values:
            raise InvalidInput(
                "correction: unknown",
                fields={
                    "correction": [_("Choose whether the units went back into the vial or were wasted.")]
                },
            )
        self.session = session = _locked(self.session)
        self.check(kind).raise_if_refused()
        units = self.units()
        if kind == StockCorrection.RETURNED:
            vial_return(actor=self.actor, vial_id=session.vial_id, units=units, session=session)
        else:
            vial_record_waste(actor=self.actor, vial_id=session.vial_id, units=units, session=session)
        session.stock_correction = kind
        session._history_user = self.actor.acting_user
        session.save(update_fields=["stock_correction"])
        return session


def session_withdraw(actor: Actor, session: TreatmentSession, reason: str) -> TreatmentSession:
    """The entered-in-error handler for sessions (registered in apps.py for the generic correction page)."""
    return SessionWithdraw(actor, session).execute(reason=reason)
