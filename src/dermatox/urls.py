from django.contrib.auth import views as auth_views
from django.urls import include, path

from dermatox.api import bulk_views, cds_fetch, fhir_openapi, fhir_views, group_views
from dermatox.api.rest import api as rest_api
from dermatox.cds import views as cds_views
from dermatox.ops.health import healthz
from dermatox.web import (
    account_views,
    document_views,
    emergency_views,
    intake_views,
    inventory_views,
    measure_views,
    outcome_views,
    schedule_views,
    session_views,
    staff_admin_views,
    token_views,
    views,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", healthz, name="healthz"),  # for the load balancer: no sign-in, no patient data
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("clinic/", views.clinic_choose, name="clinic-choose"),
    path("staff/tokens/", token_views.token_list, name="staff-tokens"),
    path("staff/tokens/<int:token_id>/revoke/", token_views.token_revoke, name="staff-token-revoke"),
    path("staff/tokens/<int:token_id>/rotate/", token_views.token_rotate, name="staff-token-rotate"),
    path("me/language/", views.user_language, name="user-language"),
    # The user's own account and second factor (docs/security/second-factor.md).
    path("login/verify/", account_views.login_verify, name="login-verify"),
    path("account/", account_views.account, name="account"),
    path("account/password/", account_views.password_change, name="password-change"),
    path("account/2fa/setup/", account_views.second_factor_setup, name="second-factor-setup"),
    path("account/2fa/recovery-codes/", account_views.recovery_codes_renew, name="recovery-codes-renew"),
    path("account/sign-out-everywhere/", account_views.sign_out_everywhere, name="sign-out-everywhere"),
    # Staff administration for managers (the list page and its actions; API tokens live under /staff/tokens/).
    path("staff/", staff_admin_views.staff_list, name="staff-list"),
    path("staff/second-factor/", staff_admin_views.staff_second_factor, name="staff-second-factor"),
    path(
        "staff/<int:user_id>/reset-password/",
        staff_admin_views.staff_reset_password,
        name="staff-reset-password",
    ),
    path(
        "staff/<int:user_id>/reset-second-factor/",
        staff_admin_views.staff_reset_second_factor,
        name="staff-reset-second-factor",
    ),
    path("staff/<int:user_id>/deactivate/", staff_admin_views.staff_deactivate, name="staff-deactivate"),
    path("staff/<int:user_id>/reactivate/", staff_admin_views.staff_reactivate, name="staff-reactivate"),
    path("patients/", views.patient_list, name="patient-list"),
    path("patients/new/", views.patient_create, name="patient-create"),
    # Break-the-glass (docs/security/emergency-access.md): a physician's request, ending it, the manager's list.
    path("patients/emergency-access/", emergency_views.emergency_access, name="emergency-access"),
    path(
        "patients/emergency-access/<int:access_id>/end/",
        emergency_views.emergency_access_stop,
        name="emergency-access-end",
    ),
    path("clinic/emergency-access/", emergency_views.emergency_access_list, name="emergency-access-list"),
    path("patients/<uuid:patient_id>/", views.patient_detail, name="patient-detail"),
    path("patients/<uuid:patient_id>/edit/", views.patient_edit, name="patient-edit"),
    path("patients/<uuid:patient_id>/timeline/", views.patient_timeline, name="patient-timeline"),
    path("patients/<uuid:patient_id>/versions/", views.patient_versions, name="patient-versions"),
    path("patients/<uuid:patient_id>/add/<slug:kind>/", views.record_add, name="record-add"),
    path(
        "patients/<uuid:patient_id>/error/<slug:kind>/<int:pk>/",
        views.record_entered_in_error,
        name="record-error",
    ),
    path("patients/<uuid:patient_id>/assessment/", views.patient_assessment, name="patient-assessment"),
    path(
        "patients/<uuid:patient_id>/assessment/<int:snapshot_id>/",
        views.assessment_snapshot,
        name="assessment-snapshot",
    ),
    path("patients/<uuid:patient_id>/sessions/new/", session_views.session_new, name="session-new"),
    path(
        "patients/<uuid:patient_id>/sessions/<int:session_id>/",
        session_views.session_detail,
        name="session-detail",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<int:session_id>/point/",
        session_views.session_point,
        name="session-point",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<int:session_id>/vial/",
        session_views.session_vial,
        name="session-vial",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<int:session_id>/points/",
        session_views.session_points,
        name="session-points",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<int:session_id>/sign/",
        session_views.session_sign,
        name="session-sign",
    ),
    path(
        "patients/<uuid:patient_id>/sessions/<int:session_id>/stock-correction/",
        session_views.session_stock_correction,
        name="session-stock-correction",
    ),
    path("patients/<uuid:patient_id>/intake/start/", intake_views.intake_start, name="intake-start"),
    path(
        "patients/<uuid:patient_id>/intake/<int:intake_id>/", intake_views.intake_review, name="intake-review"
    ),
    path(
        "patients/<uuid:patient_id>/intake/<int:intake_id>/pdf/", intake_views.intake_pdf, name="intake-pdf"
    ),
    path("intake/<str:token>/", intake_views.intake_fill, name="intake-fill"),
    path(
        "patients/<uuid:patient_id>/examination/<slug:exam>/", measure_views.examination, name="examination"
    ),
    path("patients/<uuid:patient_id>/labs/", measure_views.labs, name="labs"),
    path("patients/<uuid:patient_id>/labs/flag/", measure_views.lab_flag, name="lab-flag"),
    path(
        "patients/<uuid:patient_id>/outcomes/", outcome_views.patient_outcomes_view, name="patient-outcomes"
    ),
    path("outcomes/", outcome_views.clinic_outcomes, name="clinic-outcomes"),
    path("patients/<uuid:patient_id>/plan.pdf", document_views.plan_pdf, name="plan-pdf"),
    path(
        "patients/<uuid:patient_id>/sessions/<int:session_id>/aftercare.pdf",
        document_views.aftercare_pdf,
        name="aftercare-pdf",
    ),
    path(
        "patients/<uuid:patient_id>/visits/<int:encounter_id>/summary.pdf",
        document_views.visit_pdf,
        name="visit-pdf",
    ),
    path("stock/", inventory_views.stock, name="stock"),
    path("stock/policy/", inventory_views.stock_policy, name="stock-policy"),
    path("stock/vials/<int:vial_id>/", inventory_views.vial_action, name="vial-action"),
    path("stock/recall/", inventory_views.recall, name="recall"),
    # Scheduling: calendar, booking, appointments, recall worklist.
    path("schedule/", schedule_views.schedule_day, name="schedule-day"),
    path("schedule/week/", schedule_views.schedule_week, name="schedule-week"),
    path("schedule/book/", schedule_views.appointment_book, name="appointment-book"),
    path(
        "schedule/appointments/<int:appointment_id>/",
        schedule_views.appointment_detail,
        name="appointment-detail",
    ),
    path(
        "schedule/appointments/<int:appointment_id>/ics/",
        schedule_views.appointment_ics_download,
        name="appointment-ics",
    ),
    path("recall/", schedule_views.recall, name="recall-worklist"),
    path("recall/<int:follow_up_id>/book/", schedule_views.follow_up_book, name="follow-up-book"),
    path("evidence/", views.evidence, name="evidence"),
    path("audit/", views.audit_view, name="audit"),
    # CDS Hooks 2.0 (docs/cds_hooks.md): discovery and two services, for other EHRs.
    path("cds-services", cds_views.discovery, name="cds-discovery"),
    # A prefetch key the EHR left out is fetched only from our own FHIR API, as the token it sends
    # (api/cds_fetch.py); for any other fhirServer the services answer 412.
    path(
        "cds-services/dermatox-patient-view",
        cds_views.service_view("patient-view", fetch=cds_fetch.own_fhir_prefetch),
        name="cds-patient-view",
    ),
    path(
        "cds-services/dermatox-order-select",
        cds_views.service_view("order-select", fetch=cds_fetch.own_fhir_prefetch),
        name="cds-order-select",
    ),
    path("api/", rest_api.urls),
    # FHIR Bulk Data $export (docs/fhir.md): before the FHIR routes, which would read "$export" as an id.
    path("fhir/openapi.json", fhir_openapi.openapi_view, name="fhir-openapi"),
    path("fhir/$export", bulk_views.kickoff, {"level": "system"}, name="bulk-export-system"),
    path("fhir/Patient/$export", bulk_views.kickoff, {"level": "patient"}, name="bulk-export-patient"),
    path("fhir/Group/<slug:group>/$export", bulk_views.kickoff, {"level": "group"}, name="bulk-export-group"),
    path("fhir/bulk-status/<uuid:job_id>", bulk_views.status, name="bulk-status"),
    path("fhir/bulk-files/<uuid:job_id>/<str:type_name>.ndjson", bulk_views.download, name="bulk-file"),
    # FHIR Group (a clinic's patients, fhir/groups.py): before the generic routes, which know no Group.
    path("fhir/Group", group_views.group_type_view, name="fhir-group-search"),
    path("fhir/Group/<str:group_id>", group_views.group_instance_view, name="fhir-group-read"),
    path("fhir", fhir_views.base_view),  # [base] without the slash (POST would not survive APPEND_SLASH)
    path("fhir/", include("dermatox.api.fhir_urls")),
]
