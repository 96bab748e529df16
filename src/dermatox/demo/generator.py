"""Seeded synthetic patients: pure Python, no Django, no clock (the date is an argument).

The same seed and date always give the same patients, so screenshots and tests are reproducible.
It yields one patient at a time, so it can feed 100,000+ patients to a bulk loader in constant memory.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

GIVEN_F = [
    "Ayşe",
    "Elif",
    "Zeynep",
    "Selin",
    "Deniz",
    "Ece",
    "Merve",
    "İrem",
    "Şule",
    "Gül",
    "Anna",
    "Sofia",
    "Leyla",
    "Naz",
    "Buse",
    "Özge",
    "Maria",
    "Emma",
    "Derya",
    "Cansu",
]
GIVEN_M = [
    "Mehmet",
    "Ahmet",
    "Mustafa",
    "Emre",
    "Can",
    "Burak",
    "Oğuz",
    "Kerem",
    "Umut",
    "İsmail",
    "David",
    "Lucas",
    "Arda",
    "Barış",
    "Serkan",
    "Tolga",
    "Ömer",
    "Yusuf",
    "Daniel",
    "Cem",
]
FAMILY = [
    "Yılmaz",
    "Kaya",
    "Demir",
    "Şahin",
    "Çelik",
    "Yıldız",
    "Yıldırım",
    "Öztürk",
    "Aydın",
    "Özdemir",
    "Arslan",
    "Doğan",
    "Kılıç",
    "Aslan",
    "Çetin",
    "Koç",
    "Kurt",
    "Özkan",
    "Şimşek",
    "Polat",
    "Müller",
    "Rossi",
    "Smith",
    "Erdoğan",
    "Güneş",
    "Aksoy",
    "Tekin",
    "Bulut",
]
STREETS = ["Abdi İpekçi Cd.", "Bağdat Cd.", "Moda Cd.", "Teşvikiye Cd.", "Rumeli Cd.", "Halaskargazi Cd."]
DISTRICTS = ["Nişantaşı", "Kadıköy", "Beşiktaş", "Şişli", "Üsküdar", "Moda"]


@dataclass
class DemoObservation:
    code: str
    value: str
    unit: str | None = None


@dataclass
class DemoVisit:
    start: dt.datetime
    kind: str
    reason: str
    observations: list[DemoObservation] = field(default_factory=list)
    note: str = ""


@dataclass
class DemoPatient:
    index: int
    clinic_index: int
    given_name: str
    family_name: str
    sex_at_birth: str
    birth_date: dt.date
    phone: str
    email: str
    address: str
    preferred_language: str
    national_id: str
    case: str  # hair_aga_male | hair_aga_female | hair_te | acne | acne_scars
    diagnoses: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)
    medications: list[tuple[str, str]] = field(default_factory=list)  # (code, dose)
    allergies: list[tuple[str, str]] = field(default_factory=list)  # (code, reaction)
    pregnancy: tuple[str, str] | None = None  # (pregnant, breastfeeding)
    consents: list[tuple[str, str]] = field(default_factory=list)  # (kind, decision)
    visits: list[DemoVisit] = field(default_factory=list)
    follow_up: tuple[dt.date, str] | None = None
    courses: list[tuple[str, int, str]] = field(default_factory=list)  # past acne treatments


CASES = ["hair_aga_male", "hair_aga_female", "hair_te", "acne", "acne_scars"]
NORWOOD = ["II", "III", "III-vertex", "IV", "V"]


def _national_id(rng: random.Random) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(10))


def _hair_visit_obs(case: str, step: int, rng: random.Random, base: dict) -> list[DemoObservation]:
    # Gentle improvement over visits, with noise: realistic-looking series for plots and change-from-baseline.
    factor = max(0.45, 1 - 0.12 * step + rng.uniform(-0.05, 0.05))
    obs = [
        DemoObservation("daily_shedding", str(round(base["shedding"] * factor))),
        DemoObservation("pull_test_hairs", str(max(0, round(base["pull"] * factor)))),
        DemoObservation("hair_density", f"{base['density'] * (1 + 0.03 * step) + rng.uniform(-4, 4):.1f}"),
        DemoObservation(
            "hair_shaft_diameter", f"{base['diameter'] * (1 + 0.02 * step) + rng.uniform(-2, 2):.1f}"
        ),
    ]
    if step == 0:
        if case == "hair_aga_male":
            obs.append(DemoObservation("norwood", base["norwood"]))
        elif case == "hair_aga_female":
            obs.append(DemoObservation("ludwig", base["ludwig"]))
            obs.append(DemoObservation("sinclair", str(base["sinclair"])))
    return obs


def _acne_visit_obs(step: int, rng: random.Random, base: dict) -> list[DemoObservation]:
    factor = max(0.3, 1 - 0.15 * step + rng.uniform(-0.05, 0.05))
    gags = max(0, min(44, round(base["gags"] * factor)))
    obs = [
        DemoObservation("gags", str(gags)),
        DemoObservation("iga", str(max(0, min(4, round(base["iga"] * factor))))),
        DemoObservation("inflammatory_lesions", str(round(base["inflammatory"] * factor))),
        DemoObservation("noninflammatory_lesions", str(round(base["comedones"] * factor))),
        DemoObservation("sebum_casual", f"{base['sebum'] * factor + rng.uniform(-5, 5):.0f}"),
        DemoObservation("seborrhea_grade", "marked" if factor > 0.8 else "mild"),
    ]
    if step == 0:
        obs.append(DemoObservation("fitzpatrick", base["fitzpatrick"]))
        if base.get("scar_grade"):
            obs.append(DemoObservation("goodman_baron", str(base["scar_grade"])))
    return obs


NOTES = {
    "hair": [
        "Shedding history taken; pull test done at vertex. Trichoscopy shows hair-shaft diameter variability.",
        "Patient reports less hair on the pillow. Continue current plan; photos taken at the mapped sites.",
        "Reviewed labs with the patient. Discussed that evidence for scalp toxin is limited to small studies.",
    ],
    "acne": [
        "Oily skin with papulopustular acne on cheeks and forehead. First-line therapy discussed.",
        "Less oiliness reported; fewer new lesions. Sebum measured on mid-forehead after 2 h without cleansing.",
        "Scar assessment: rolling and boxcar scars on both cheeks. Plan scar treatment once acne is controlled.",
    ],
}


def generate(*, seed: int, count: int, as_of: dt.date, clinics: int = 2) -> Iterator[DemoPatient]:
    rng = random.Random(seed)
    for index in range(count):
        case = CASES[index % len(CASES)] if index < len(CASES) * 2 else rng.choice(CASES)
        sex = (
            "male"
            if case == "hair_aga_male"
            else "female"
            if case == "hair_aga_female"
            else rng.choice(["female", "male"])
        )
        age = rng.randint(19, 58) if case.startswith("hair") else rng.randint(17, 38)
        birth = as_of - dt.timedelta(days=age * 365 + rng.randint(0, 364))
        given = rng.choice(GIVEN_M if sex == "male" else GIVEN_F)
        family = rng.choice(FAMILY)
        ascii_given = given.lower().translate(str.maketrans("çğıöşüİ", "cgiosui"))
        p = DemoPatient(
            index=index,
            clinic_index=0 if index % 3 else 1 % clinics,
            given_name=given,
            family_name=family,
            sex_at_birth=sex,
            birth_date=birth,
            phone=f"+90 5{rng.randint(30, 59)} {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
            email=f"{ascii_given}.{index}@example.com",
            address=f"{rng.choice(STREETS)} No:{rng.randint(1, 180)}, {rng.choice(DISTRICTS)}, İstanbul",
            preferred_language="tr" if rng.random() < 0.8 else "en",
            national_id=_national_id(rng),
            case=case,
        )
        base: dict = {}
        if case.startswith("hair"):
            p.diagnoses = ["telogen_effluvium" if case == "hair_te" else "androgenetic_alopecia"]
            base = {
                "shedding": rng.randint(110, 260) if case == "hair_te" else rng.randint(60, 160),
                "pull": rng.randint(3, 9) if case == "hair_te" else rng.randint(0, 4),
                "density": rng.uniform(120, 185),
                "diameter": rng.uniform(52, 70),
                "norwood": rng.choice(NORWOOD),
                "ludwig": rng.choice(["I", "II"]),
                "sinclair": rng.randint(2, 4),
            }
            if sex == "male" and rng.random() < 0.5:
                p.medications.append(("finasteride", "1 mg daily"))
            if rng.random() < 0.5:
                p.medications.append(
                    ("minoxidil_topical", "5% twice daily" if sex == "male" else "2% twice daily")
                )
            if sex == "female" and rng.random() < 0.3:
                p.history.append("hypothyroidism")
        else:
            p.diagnoses = ["acne_vulgaris", "seborrhoea"] + (["acne_scars"] if case == "acne_scars" else [])
            base = {
                "gags": rng.randint(14, 32),
                "iga": rng.randint(2, 4),
                "inflammatory": rng.randint(8, 40),
                "comedones": rng.randint(10, 60),
                "sebum": rng.uniform(120, 260),
                "fitzpatrick": rng.choice(["II", "III", "III", "IV"]),
                "scar_grade": rng.randint(2, 4) if case == "acne_scars" else None,
            }
            if sex == "female" and rng.random() < 0.35:
                p.history.append("pcos")
                p.medications.append(("oral_contraceptive", "1 tablet daily"))
            if rng.random() < 0.3:
                p.medications.append(("isotretinoin", "20 mg daily (stopped after 5 months)"))
        if rng.random() < 0.08:
            p.allergies.append(("lidocaine", "Urticaria"))
        if rng.random() < 0.1:
            p.history.append("herpes_simplex")
        if sex == "female":
            p.pregnancy = ("no", "yes" if rng.random() < 0.05 else "no")
        p.consents = [("treatment", "granted"), ("photography", "granted")]
        p.consents.append(("photo_teaching_marketing", "granted" if rng.random() < 0.4 else "refused"))

        visits = rng.randint(2, 6)
        start = as_of - dt.timedelta(days=84 * visits + rng.randint(7, 30))
        area = "hair" if case.startswith("hair") else "acne"
        for step in range(visits):
            when = dt.datetime.combine(
                start, dt.time(rng.choice([9, 10, 11, 13, 14, 15, 16]), rng.choice([0, 30]))
            )
            kind = "consultation" if step == 0 else rng.choice(["treatment", "follow_up"])
            reason = {"hair": "Hair loss", "acne": "Acne / oily skin"}[area]
            obs = (
                _hair_visit_obs(case, step, rng, base) if area == "hair" else _acne_visit_obs(step, rng, base)
            )
            p.visits.append(DemoVisit(when, kind, reason, obs, NOTES[area][min(step, 2)]))
            start += dt.timedelta(days=rng.randint(28, 84))
        first = p.visits[0]
        if area == "hair":
            first.observations += [
                DemoObservation("hair_thinning", "yes" if case != "hair_te" else rng.choice(["yes", "no"])),
                DemoObservation("scalp_gaps", rng.choice(["yes", "no", "no"])),
            ]
            if sex == "female":
                first.observations.append(
                    DemoObservation("hyperandrogenism_signs", "yes" if "pcos" in p.history else "no")
                )
            if case == "hair_te" or sex == "female":
                # A recent work-up visit, so its results fall within the 180 days that count.
                when = dt.datetime.combine(as_of - dt.timedelta(days=rng.randint(7, 60)), dt.time(9, 0))
                labs = [
                    DemoObservation(
                        "hair_loss_trigger_3m", "yes" if case == "hair_te" and rng.random() < 0.5 else "no"
                    ),
                    DemoObservation("ferritin", str(rng.choice([9, 14, 22, 38, 55, 80])), "ng/mL"),
                    DemoObservation("hemoglobin", f"{rng.uniform(11.2, 14.5):.1f}", "g/dL"),
                    DemoObservation("tsh", str(rng.choice([0.9, 1.8, 2.4, 5.6])), "mIU/L"),
                    DemoObservation("vitamin_d_25oh", str(rng.choice([24, 38, 55, 80])), "nmol/L"),
                ]
                p.visits.append(
                    DemoVisit(
                        when, "lab", "Laboratory work-up", labs, "Work-up results reviewed with the patient."
                    )
                )
        else:
            first.observations.append(
                DemoObservation("acne_scarring", "yes" if case == "acne_scars" else "no")
            )
            if case == "acne_scars":
                p.visits[-1].observations.append(
                    DemoObservation("scar_treatment_ongoing", rng.choice(["yes", "no"]))
                )
            p.courses.append(
                ("topical_first_line", rng.choice([6, 12, 16]), rng.choice(["inadequate", "partial", "good"]))
            )
            if rng.random() < 0.6:
                p.courses.append(
                    (
                        "oral_antibiotic",
                        rng.choice([8, 12, 16]),
                        rng.choice(["inadequate", "partial", "not_tolerated"]),
                    )
                )
        p.visits.sort(key=lambda v: v.start)
        p.follow_up = (
            as_of + dt.timedelta(days=rng.randint(-10, 60)),
            "Review response; repeat measurements",
        )
        yield p
