"""Helpers shared by the REST API tests (the `token` and `api` fixtures are in conftest.py)."""

ERROR_KEYS = {"message", "code", "fields"}


def is_error(response, status, code=None):
    """Assert the one error shape `{message, code, fields}` with this status (and code); return the body."""
    body = response.json()
    assert response.status_code == status, body
    assert set(body) == ERROR_KEYS, body
    if code:
        assert body["code"] == code, body
    return body
