"""Plan checks as CDS cards: pure, no Django. Every block and every warning makes a card, whatever its id."""

from dermatox.cds.cards import plan_cards
from dermatox.clinical.reference import by_id


def test_every_block_and_warning_makes_a_card_even_without_evidence():
    check = {
        "blocks": [{"id": "a_block_the_register_does_not_know", "text": "Blocked for a new reason."}],
        "warnings": [{"id": "a_new_warning", "text": "Warned for a new reason."}],
    }
    cards = plan_cards(
        check,
        order_label="onabotulinumtoxinA (Botox) 150 U to the scalp",
        order_short="onabotulinumtoxinA 150 U, scalp",
    )
    assert [(c["indicator"], c["summary"]) for c in cards] == [  # each names the order it is about
        ("critical", "Blocked (onabotulinumtoxinA 150 U, scalp): Blocked for a new reason."),
        ("warning", "Warning (onabotulinumtoxinA 150 U, scalp): Warned for a new reason."),
    ]
    assert all(c["source"] == {"label": "Dermatox toxin plan check"} for c in cards)


def test_the_checks_own_evidence_map_gives_the_references():
    """The plan check names each rule's evidence (id -> evidence ids): the card cites it, so a rule added to
    the check needs no copy of its evidence here (clinical.md §12.1b R-BoNT-4 for same_area_same_day)."""
    check = {
        "blocks": [{"id": "same_area_same_day", "text": "Already given in the scalp today."}],
        "warnings": [],
        "evidence": {"same_area_same_day": ["bont_retreatment_interval"]},
    }
    (card,) = plan_cards(check, order_label="onabotulinumtoxinA 150 U")
    register = by_id("evidence.toml")["bont_retreatment_interval"]
    assert card["indicator"] == "critical" and card["source"]["url"] == register["url"]
    assert register["citation"] in card["detail"]


def test_a_pregnant_woman_already_on_isotretinoin_gets_a_critical_card_first():
    """Issue 11 §1 / clinical.md §12.3: the alert about what the patient already takes leads the cards."""
    from dermatox.cds.cards import recommendation_cards
    from dermatox.clinical.pathways import assess

    result = assess(
        {
            "as_of": "2026-11-21",
            "patient": {"sex": "female", "birth_date": "1996-01-01", "pregnant": True},
            "history": {"medications": ["isotretinoin", "oral_tetracycline"]},
        }
    )
    cards = recommendation_cards(result, seed="hook-1")
    alerts = [c for c in cards if "Pregnant and taking" in c["summary"] or "together" in c["summary"]]
    assert len(alerts) == 3  # isotretinoin and tetracycline in pregnancy, and the pair together
    assert all(c["indicator"] == "critical" for c in alerts)
    assert cards[0] in alerts and len(cards[0]["summary"]) <= 140
    assert "Isotretinoin (oral)" in cards[0]["detail"] and cards[0]["source"].get("url")


def test_a_summary_drops_the_asides_the_detail_keeps_them():
    check = {
        "blocks": [{"id": "x", "text": "Last dose 30 days ago (20 U of A (brand) on 2026-01-01): too soon."}],
        "warnings": [],
    }
    (card,) = plan_cards(check, order_label="A 150 U to the scalp", order_short="A 150 U, scalp")
    assert card["summary"] == "Blocked (A 150 U, scalp): Last dose 30 days ago: too soon."
    assert "(20 U of A (brand) on 2026-01-01)" in card["detail"]


def test_doses_are_written_as_a_clinician_writes_them():
    from dermatox.cds.prefetch import as_written, units_text

    assert [units_text(u) for u in (500.001, 150.999, 407.0004, 12.5, 12.54, 1.25, 0.5, 100.0)] == [
        "500 U",
        "151 U",
        "407 U",
        "12.5 U",
        "12.5 U",
        "1.25 U",
        "0.5 U",
        "100 U",
    ]
    assert as_written(float("inf")) == float("inf") and units_text(0.004) == "0.004 U"
