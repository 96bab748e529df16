"""CDS Hooks 2.0 services: Dermatox advice for other EHRs (docs/cds_hooks.md)."""
