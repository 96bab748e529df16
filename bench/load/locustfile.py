"""Locust: simulated clinicians doing the clinic day through the web UI, as a browser would (CSRF forms).

One visit (the task, repeated): find the patient by name, open the chart, record a measurement, chart a
toxin session from a protocol, reconstitute a fresh vial and choose it, sign (giving a reason for each
warning of the plan check), discard the vial's remainder (single-patient use), look at the recall
worklist, print the treatment plan PDF. Every few visits the clinician signs
out and in again (sign in + clinic choice). Requests are named by route (`/patients/[id]/`) so the
statistics group.

Reads the JSON written by `prepare.py` (env LOAD_PREPARED): the clinic id, the sealed vials and the
patients a session can be signed for; each visit takes a fresh patient and a fresh vial, because the same
area twice or too soon is a hard stop by design. A hard stop the server still finds (the plan check
blocks) is counted, not failed. Anything else that goes wrong is a failure: a status outside 2xx/3xx, a
form that comes back with errors, a sign that did not produce a signed session.

At the end the counts go to the JSON file named by LOAD_RESULT (read by run.py).

Env: LOAD_PREPARED (required), LOAD_RESULT, LOAD_VISITS_PER_LOGIN (default 5), LOAD_THINK_MIN/MAX seconds
between steps (default 1 and 3).
"""

from __future__ import annotations

import html
import json
import os
import random
import re
from collections import Counter, deque

from locust import HttpUser, between, events, task

PREPARED = json.load(open(os.environ["LOAD_PREPARED"], encoding="utf-8"))  # noqa: SIM115 (read once)
PATIENTS = deque(PREPARED["patients"])
VIALS = deque(PREPARED["vials"])
CLINIC_ID = str(PREPARED["clinic_id"])
PASSWORD = "Dermatox-demo-2026"  # demo/loader.py DEMO_PASSWORD: the demo logins only
VISITS_PER_LOGIN = int(os.environ.get("LOAD_VISITS_PER_LOGIN", "5"))
ACK_REASON = "Load run: discussed with the patient, benefit outweighs this warning."
COUNTS: Counter = Counter()
DISCARD = {"action": "discard", "reason": "Single-patient vial: the remainder is discarded."}

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ACK_FIELD = re.compile(r'name="(ack_[^"]+)"')
SESSION_URL = re.compile(r"/patients/[0-9a-f-]{36}/sessions/(\d+)/$")
EFFECTIVE_AT = re.compile(r'name="effective_at" value="([^"]+)"')


def _token(text: str) -> str | None:
    found = TOKEN.search(text)
    return html.unescape(found.group(1)) if found else None


class Clinician(HttpUser):
    wait_time = between(
        float(os.environ.get("LOAD_THINK_MIN", "1")), float(os.environ.get("LOAD_THINK_MAX", "3"))
    )
    _count = 0

    def on_start(self) -> None:
        Clinician._count += 1
        # Physicians and nurses both chart and sign toxin sessions; the nurse reads the pages in Turkish.
        self.username = "physician" if Clinician._count % 2 else "nurse"
        self.visits = 0
        self.signed_session: str | None = None  # the session signed this visit (its page URL)
        self.signed_in = self.sign_in()

    # --- helpers -------------------------------------------------------------------------------------

    def _fail(self, response, why: str) -> None:
        COUNTS[f"failure: {why}"] += 1
        response.failure(why)

    def get_form(self, url: str, name: str) -> str | None:
        """GET a page holding a form; its CSRF token, or None (failure recorded)."""
        with self.client.get(url, name=name, catch_response=True) as response:
            token = _token(response.text) if response.ok else None
            if token is None:
                self._fail(response, f"no form on {name} ({response.status_code})")
            return token

    # --- the steps -----------------------------------------------------------------------------------

    def sign_in(self) -> bool:
        token = self.get_form("/login/", "/login/")
        if token is None:
            return False
        with self.client.post(
            "/login/",
            {"csrfmiddlewaretoken": token, "username": self.username, "password": PASSWORD, "next": ""},
            name="/login/",
            catch_response=True,
        ) as response:
            if not response.ok or response.url.rstrip("/").endswith("/login"):
                self._fail(response, "sign in refused")
                return False
            chooser = _token(response.text) if response.url.endswith("/clinic/") else None
        if chooser:  # a member of several clinics chooses one
            with self.client.post(
                "/clinic/",
                {"csrfmiddlewaretoken": chooser, "clinic": CLINIC_ID},
                name="/clinic/",
                catch_response=True,
            ) as response:
                if not response.ok or response.url.endswith("/clinic/"):
                    self._fail(response, "clinic not chosen")
                    return False
        COUNTS["sign_ins"] += 1
        return True

    def sign_out(self) -> None:
        token = self.get_form("/patients/", "/patients/")
        if token:
            self.client.post("/logout/", {"csrfmiddlewaretoken": token}, name="/logout/")
        self.client.cookies.clear()

    def find(self, patient: dict) -> None:
        with self.client.get(
            "/patients/", params={"q": patient["name"]}, name="/patients/?q=[name]", catch_response=True
        ) as response:
            if response.ok and patient["id"] in response.text:
                return
            if not response.ok:
                return self._fail(response, f"search {response.status_code}")
        # A common name can have more than a page of namesakes: the record number finds the one.
        with self.client.get(
            "/patients/",
            params={"identifier": patient["mrn"]},
            name="/patients/?identifier=[mrn]",
            catch_response=True,
        ) as response:
            if response.ok and patient["id"] not in response.text:
                self._fail(response, "search did not find the patient")

    def open_chart(self, pid: str, patient: dict) -> None:
        with self.client.get(f"/patients/{pid}/", name="/patients/[id]/", catch_response=True) as response:
            if response.ok and patient["mrn"] not in response.text:
                self._fail(response, "chart without the patient's record number")

    def record_measurement(self, pid: str) -> None:
        url, name = f"/patients/{pid}/add/observation/", "/patients/[id]/add/observation/"
        with self.client.get(url, name=name, catch_response=True) as response:
            token = _token(response.text) if response.ok else None
            when = EFFECTIVE_AT.search(response.text) if response.ok else None
            if token is None or when is None:
                return self._fail(response, "no measurement form")
        data = {
            "csrfmiddlewaretoken": token,
            "code": "pull_test_hairs",
            "value": str(random.randint(0, 12)),
            "effective_at": html.unescape(when.group(1)),
        }
        with self.client.post(url, data, name=f"{name}", catch_response=True) as response:
            if response.ok and not response.url.endswith(f"/patients/{pid}/"):
                self._fail(response, "measurement not saved")
            elif response.ok:
                COUNTS["measurements"] += 1

    def chart_and_sign(self, pid: str, patient: dict) -> None:
        token = self.get_form(f"/patients/{pid}/sessions/new/", "/patients/[id]/sessions/new/")
        if token is None:
            return
        with self.client.post(
            f"/patients/{pid}/sessions/new/",
            {"csrfmiddlewaretoken": token, "protocol": patient["protocol"]},
            name="/patients/[id]/sessions/new/",
            catch_response=True,
        ) as response:
            found = SESSION_URL.search(response.url) if response.ok else None
            if found is None:
                return self._fail(response, "session not created")
            token = _token(response.text)
        base = f"/patients/{pid}/sessions/{found.group(1)}/"
        if not VIALS:
            COUNTS["no_vial_left"] += 1
            return
        vial = VIALS.popleft()
        # Reconstitute a fresh vial for this patient. The stock page the form redirects to lists every
        # vial the clinic ever had, so it is not followed (a redirect is the success answer).
        if not self.stock_action(vial, token, {"action": "open", "diluent_ml": "4"}):
            return
        with self.client.post(
            f"{base}vial/",
            {"csrfmiddlewaretoken": token, "vial": vial},
            name="/patients/[id]/sessions/[sid]/vial/",
            catch_response=True,
        ) as response:
            # The vial card (not the list of open vials) names the session's vial: `<p>#id · lot …`.
            if not response.ok or f"<p>#{vial} · " not in response.text or not response.url.endswith(base):
                return self._fail(response, "vial not taken")
            page = response.text
        if 'id="sign-form"' not in page:
            return self._fail(response, "no plan check to sign")
        if "alert-danger" in page:  # the plan check blocks: that patient is not eligible now
            COUNTS["hard_stops"] += 1
            self.stock_action(vial, token, DISCARD)
            return
        for attempt in (1, 2):
            data = {"csrfmiddlewaretoken": _token(page)}
            data.update({field: ACK_REASON for field in ACK_FIELD.findall(page)})
            with self.client.post(
                f"{base}sign/", data, name="/patients/[id]/sessions/[sid]/sign/", catch_response=True
            ) as response:
                if not response.ok:
                    return self._fail(response, f"sign {response.status_code}")
                page = response.text
                signed = response.url.endswith(base) and 'id="sign-form"' not in page
                blocked = not signed and "alert-danger" in page
                if signed:
                    self.signed_session = base
                    COUNTS["sessions_signed"] += 1
                    COUNTS[f"warnings_acknowledged_{len(data) - 1}"] += 1
                elif blocked:
                    COUNTS["hard_stops"] += 1
                elif attempt == 2:
                    self._fail(response, "sign did not produce a signed session")
                else:
                    COUNTS["sign_reasons_asked_again"] += 1  # the plan changed: new warnings need reasons
                    continue
            self.stock_action(vial, token, DISCARD)  # single-patient use: what is left is waste
            return

    def stock_action(self, vial: int, token: str, data: dict) -> bool:
        with self.client.post(
            f"/stock/vials/{vial}/",
            {"csrfmiddlewaretoken": token, **data},
            name=f"/stock/vials/[id]/ ({data['action']})",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                self._fail(response, f"vial {data['action']} {response.status_code}")
                return False
            return True

    def worklist(self) -> None:
        self.client.get("/recall/", name="/recall/")

    def aftercare_pdf(self) -> None:
        """The aftercare sheet of the session just signed, printed for the patient. (The treatment-plan PDF
        exists only for a patient with a signed assessment, which most demo patients lack.)"""
        if self.signed_session is None:
            COUNTS["no_session_to_print"] += 1
            return
        url, self.signed_session = f"{self.signed_session}aftercare.pdf", None
        with self.client.get(
            url, name="/patients/[id]/sessions/[sid]/aftercare.pdf", catch_response=True
        ) as r:
            if r.ok and not r.content.startswith(b"%PDF"):
                self._fail(r, "aftercare.pdf is not a PDF")

    # --- the visit -----------------------------------------------------------------------------------

    @task
    def visit(self) -> None:
        if self.signed_in and self.visits and self.visits % VISITS_PER_LOGIN == 0:
            self.sign_out()
            self.signed_in = False
            self.wait()
        if not self.signed_in:
            self.signed_in = self.sign_in()
            if not self.signed_in:
                return
            self.wait()
        self.visits += 1
        if not PATIENTS:
            COUNTS["no_patient_left"] += 1
            self.worklist()
            return
        patient = PATIENTS.popleft()
        pid = patient["id"]
        for step in (
            lambda: self.find(patient),
            lambda: self.open_chart(pid, patient),
            lambda: self.record_measurement(pid),
            lambda: self.chart_and_sign(pid, patient),
            self.worklist,
            self.aftercare_pdf,
        ):
            step()
            self.wait()
        COUNTS["visits"] += 1


@events.quitting.add_listener
def _write_counts(environment, **_kwargs) -> None:
    path = os.environ.get("LOAD_RESULT")
    if path:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(dict(COUNTS), fh, indent=1, sort_keys=True)
