"""Mapping between our records and FHIR R4 (4.0.1) resources, built on `fhir.resources.R4B` models.

`resources.py`: record -> resource. `inbound.py`: resource JSON -> service arguments (Patient,
Observation), with the value-set checks the models do not make. See docs/fhir.md.
"""
