from tests.fhir.conftest import token  # noqa: F401 - the FHIR token fixture, for the bulk export test
