"""Preparation for the load run: opened toxin vials and a list of patients a session can be signed for.

Run with the app's settings against the target database, after `dermatox migrate` and `dermatox demo`:

    DATABASE_URL=postgres://… DJANGO_SETTINGS_MODULE=… python bench/load/prepare.py OUT.json [--vials 600]
        [--patients 1200]

What it writes (through the app's services, so history and audit are as in the clinic):
- `--vials` sealed onabotulinumtoxinA 200 U vials in clinic "nis" from lots expiring a year from today
  (received when missing; an earlier run's vials left open are discarded). Each visit the clinician
  reconstitutes a fresh vial (4 mL: 5 U/0.1 mL, the scalp protocol's concentration) for the patient and
  discards what is left after signing, so no two simulated clinicians queue on one vial's row lock, no
  plan check warns that the vial runs short, and the session page lists only the vials in use.
- OUT.json: the clinic id, the vial ids, and `--patients` patients of clinic nis for whom the real plan
  check (`treatments.services.session_plan`, the one signing runs) does not block a protocol now, with that
  protocol. Patients treated too recently, outside a protocol's ages, pregnant and so on are left out by
  the same rules that would refuse the signature. Rerunning after a run leaves the patients signed in it
  out (too soon), so each signed session in a run is for a fresh patient.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from decimal import Decimal

PRODUCT, VIAL_UNITS, DILUENT_ML = "onabotulinumtoxinA", 200, "4"
LOT_NUMBER = "LOADRUN"
# Tried in this order for each patient; the first the plan check does not block is the one charted.
PROTOCOLS = ("hair_scalp_im", "glabellar_lines", "axillary_hyperhidrosis")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dermatox.settings.dev")
    import django

    django.setup()


def _stock(actor, wanted: int) -> list[int]:
    """Ids of `wanted` sealed vials of load-run lots, received as needed. An earlier run's vials left open
    are discarded first, so the session page lists only the vials in use (each clinician opens a vial
    for the patient and discards what is left after signing)."""
    from django.utils import timezone

    from dermatox.inventory import services as inv
    from dermatox.inventory.models import Vial

    today, now = timezone.localdate(), timezone.now()
    vials = Vial.objects.filter(lot__clinic=actor.clinic, lot__lot_number__startswith=LOT_NUMBER)
    for vial_id in vials.filter(state="open").values_list("pk", flat=True):
        inv.vial_discard(actor=actor, vial_id=vial_id, reason="load run: left open by an earlier run")
    sealed = list(
        vials.filter(state="sealed", lot__expiry__gte=today + dt.timedelta(days=30))
        .order_by("pk")
        .values_list("pk", flat=True)[:wanted]
    )
    missing = wanted - len(sealed)
    while missing > 0:
        batch = min(missing, inv.MAX_VIALS_PER_DELIVERY)
        lot = inv.lot_receive(
            actor=actor,
            product=PRODUCT,
            lot_number=f"{LOT_NUMBER}-{now:%Y%m%d%H%M%S}-{missing}",
            expiry=today + dt.timedelta(days=365),
            vial_units=VIAL_UNITS,
            vials=batch,
        )
        sealed += list(lot.vials.order_by("pk").values_list("pk", flat=True))
        missing -= batch
    return sealed


def _eligible(actor, probe_vial_id: int, wanted: int) -> tuple[list[dict], dict[str, int]]:
    """Patients of the clinic for whom a protocol's plan check passes (ok or warnings) now, with a fresh vial."""
    from django.utils import timezone

    from dermatox.clinical.toxin.protocols import load_protocols
    from dermatox.common.errors import InvalidInput
    from dermatox.inventory import services as inv
    from dermatox.inventory.models import Vial
    from dermatox.patients.models import Patient
    from dermatox.treatments.models import TreatmentSession
    from dermatox.treatments.services import protocol_points, session_plan

    protocols = load_protocols()
    now = timezone.now()
    # The vial as it will be when the clinician has reconstituted it (unsaved: the plan check only reads it).
    vial = Vial.objects.select_related("lot").get(pk=probe_vial_id)
    vial.state, vial.diluent_ml, vial.opened_at = "open", Decimal(DILUENT_ML), now
    vial.beyond_use_at = now + dt.timedelta(hours=inv.beyond_use_hours(actor.clinic))
    chosen, skipped = [], {"blocked": 0, "no_case": 0}
    patients = Patient.objects.current().filter(clinic=actor.clinic).order_by("mrn")
    for patient in patients.iterator(chunk_size=500):
        for protocol in PROTOCOLS:
            spec = protocols[protocol]
            session = TreatmentSession(patient=patient, protocol=protocol, product=spec["product"], vial=vial)
            try:
                plan = session_plan(session, now, protocol_points(session, spec))
            except InvalidInput:
                skipped["no_case"] += 1
                break
            if plan["status"] != "blocked":
                chosen.append(
                    {
                        "id": str(patient.pk),
                        "mrn": patient.mrn,
                        "name": f"{patient.given_name} {patient.family_name}",
                        "protocol": protocol,
                        "warnings": len(plan["warnings"]),
                    }
                )
                break
        else:
            skipped["blocked"] += 1
        if len(chosen) >= wanted:
            break
    return chosen, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="the JSON file the locustfile reads")
    parser.add_argument("--vials", type=int, default=600, help="sealed vials to have (default 600)")
    parser.add_argument("--patients", type=int, default=1200, help="eligible patients to list (default 1200)")
    args = parser.parse_args(argv)
    _setup()
    from dermatox.accounts.models import Clinic, Membership
    from dermatox.common.context import Actor

    clinic = Clinic.objects.get(code="nis")
    nurse = Membership.objects.select_related("user").get(clinic=clinic, user__username="nurse")
    actor = Actor(user=nurse.user, clinic=clinic, role=nurse.role, channel="cli")
    started = time.monotonic()
    vials = _stock(actor, args.vials)
    patients, skipped = _eligible(actor, vials[0], args.patients)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump({"clinic_id": clinic.pk, "vials": vials, "patients": patients}, fh)
    print(
        f"prepare: {len(vials)} sealed vials, {len(patients)} eligible patients "
        f"(skipped: {skipped['blocked']} blocked for every protocol, {skipped['no_case']} without a case) "
        f"in {time.monotonic() - started:.0f} s -> {args.out}"
    )
    if len(patients) < args.patients:
        print(f"prepare: only {len(patients)} of {args.patients} patients are eligible", file=sys.stderr)
    return 0 if patients and vials else 1


if __name__ == "__main__":
    sys.exit(main())
