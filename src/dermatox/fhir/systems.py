"""Code systems and identifier systems used in our FHIR resources. Ours live under https://dermatox.org/fhir/."""

BASE = "https://dermatox.org/fhir"

OBSERVATION = f"{BASE}/CodeSystem/observation"
OBSERVATION_VALUE = f"{BASE}/CodeSystem/observation-value"  # + "/<observation code>" for coded scales
GAGS_REGION = f"{BASE}/CodeSystem/gags-region"
CONDITION = f"{BASE}/CodeSystem/condition"
TOXIN_PROTOCOL = f"{BASE}/CodeSystem/toxin-protocol"
TOXIN_PRODUCT = f"{BASE}/CodeSystem/toxin-product"
TOXIN_UNIT = f"{BASE}/CodeSystem/toxin-unit"  # product-specific units: never converted between products
MAP_REGION = f"{BASE}/CodeSystem/map-region"
INJECTION_DEPTH = f"{BASE}/CodeSystem/injection-depth"
ADVERSE_EVENT = f"{BASE}/CodeSystem/adverse-event"
CONSENT_KIND = f"{BASE}/CodeSystem/consent-kind"
VISIT_KIND = f"{BASE}/CodeSystem/visit-kind"
TREATMENT = f"{BASE}/CodeSystem/treatment"
AUDIT_ACTION = f"{BASE}/CodeSystem/audit-action"
MRN = f"{BASE}/sid/mrn"  # + "/<clinic code>"
CLINIC = f"{BASE}/sid/clinic"  # a clinic's code (Organization, Location)
IDENTIFIER = f"{BASE}/sid"  # + "/<national_id|passport|insurance|other>"

EXT_RECOMMENDATION_STATUS = f"{BASE}/StructureDefinition/recommendation-status"
EXT_EVIDENCE = f"{BASE}/StructureDefinition/evidence"
EXT_EVIDENCE_LEVEL = f"{BASE}/StructureDefinition/evidence-level"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
BCP47 = "urn:ietf:bcp:47"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VER = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
