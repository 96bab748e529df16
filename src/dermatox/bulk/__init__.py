"""FHIR Bulk Data export ($export): asynchronous jobs that write one NDJSON file per resource type."""
