"""A complete, valid intake submission to start each test from."""

from dermatox.clinical.intake import questions

SIGNATURE = "M 10 100 L 40 60 L 80 120 L 120 70 L 160 110 M 200 90 L 260 95"


def valid_answers(sex: str = "female", **changes) -> dict[str, str]:
    data = {f"q_{q.id}": "no" for q in questions() if q.sex in (None, sex)}
    data.update(
        {
            "given_name": "İpek",
            "family_name": "Şahin",
            "birth_date": "1990-04-02",
            "sex_at_birth": sex,
            "phone": "+90 532 000 0000",
            "email": "ipek@example.org",
            "address": "Nişantaşı, İstanbul",
            "preferred_language": "tr",
            "toxin_before": "no",
            "hair_concern": "no",
            "skin_concern": "no",
            "consent_treatment": "granted",
            "consent_photography": "granted",
            "consent_photo_teaching_marketing": "refused",
            "signer_name": "İpek Şahin",
            "signature": SIGNATURE,
        }
    )
    if sex == "female":
        data.update({"pregnant": "no", "breastfeeding": "no"})
    data.update(changes)
    return data
