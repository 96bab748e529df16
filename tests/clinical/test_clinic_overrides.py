"""Clinic-editable defaults (issue 11): a clinic may change an unconfirmed (U) or conflicting (X) threshold
row in its own file, never a confirmed one; the changed row says it is the clinic's value."""

import json
import os
import subprocess
import sys

from tests.clinical.pathway_helpers import case


def run(tmp_path, override: str, raw: dict):
    folder = tmp_path / "overrides"
    folder.mkdir(exist_ok=True)
    (folder / "age_limits.toml").write_text(override, encoding="utf-8")
    env = {**os.environ, "DERMATOX_CLINICAL_OVERRIDES": str(folder)}
    return subprocess.run(
        [sys.executable, "-m", "dermatox", "assess", "-"],
        input=json.dumps(raw),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_a_clinic_may_change_an_unconfirmed_age_limit(tmp_path):
    """§12.5 scar microneedling < 18 is U: a clinic sets 16; a 17-year-old with acne scars and no active
    acne is then offered it."""
    raw = case(birth_date="2009-01-01", skin={"acne": {"gags": 0}, "scars": {"goodman_baron": 3}})  # 17
    done = run(tmp_path, '[[limit]]\nid = "scar_microneedling_min_age"\nvalue = 16\n', raw)
    assert done.returncode == 0, done.stderr

    def pick(out):
        return next(r for r in json.loads(out)["recommendations"] if r["treatment"] == "scar_microneedling")

    assert pick(done.stdout)["status"] == "option"
    default = run(tmp_path, "", raw)
    prp = pick(default.stdout)
    assert prp["status"] == "not_indicated" and prp["reason_ids"][0] == "age_range"
    assert "unconfirmed default that the clinic may change" in prp["reasons"][0]


def test_a_confirmed_limit_is_not_clinic_editable(tmp_path):
    """§12.5 tetracyclines < 8 is confirmed (C): the override is refused at start, exit 2 naming it."""
    done = run(tmp_path, '[[limit]]\nid = "tetracycline_min_age"\nvalue = 5\n', case())
    assert done.returncode == 2
    assert "tetracycline_min_age is confirmed" in done.stderr


def test_an_override_of_an_unknown_row_or_key_is_refused(tmp_path):
    assert run(tmp_path, '[[limit]]\nid = "nope"\nvalue = 5\n', case()).returncode == 2
    bad_key = run(tmp_path, '[[limit]]\nid = "scar_microneedling_min_age"\nsource = "mine"\n', case())
    assert bad_key.returncode == 2 and "not a clinic-editable key" in bad_key.stderr
