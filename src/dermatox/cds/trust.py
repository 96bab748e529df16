"""Which EHRs may call the CDS services: CDS Hooks 2.0, "Trusting CDS Clients". No Django here (views.py
supplies the settings and the cache).

The EHR signs a short-lived JWT (ES384 or RS384) and sends it as `Authorization: Bearer <jwt>`. Its claims:
`iss` (the EHR), `aud` (the service's URL), `exp` (at most 5 minutes ahead), `iat`, `jti` (used once).
We check the signature with the public keys the clinic registered for that issuer in the file named by
DERMATOX_CDS_CLIENTS (JSON: `{"clients": [{"iss": "https://ehr.example", "jwks": {"keys": [...]}}]}`).
Keys are never fetched from the network (no `jku`): an address in a token is not a reason to trust it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import jwt

ALGORITHMS = ("ES384", "RS384")
KEY_ALGORITHMS = {"EC": "ES384", "RSA": "RS384"}
MAX_LIFETIME = 300  # seconds from now to exp
LEEWAY = 30  # clock difference tolerated between the EHR and us


class Untrusted(Exception):
    """The request does not carry a token we trust; the message says which rule failed."""


class ClientsFileError(ValueError):
    """The clients file cannot be read or is not in the documented shape."""


def load_clients(path: str) -> dict[str, jwt.PyJWKSet]:
    """Issuer -> its public keys, from the clients file."""
    try:
        entries = json.loads(Path(path).read_text())["clients"]
        clients = {}
        for number, entry in enumerate(entries):
            if not isinstance(entry.get("iss"), str) or not entry["iss"]:
                raise ValueError(f"clients[{number}].iss: required")
            clients[entry["iss"]] = jwt.PyJWKSet.from_dict(entry["jwks"])
        return clients
    except (OSError, ValueError, KeyError, TypeError, AttributeError, jwt.PyJWTError) as exc:
        raise ClientsFileError(f"{path}: {exc}") from exc


def check_client(
    authorization: str | None,
    audience: str,
    clients: dict[str, jwt.PyJWKSet],
    first_use: Callable[[str, int], bool],
) -> str:
    """The issuer of a valid token for `audience` (this service's URL). `first_use(key, seconds)` records a
    token id and says whether it is new (kept for `seconds`). Raises Untrusted naming the failed rule."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Untrusted("Authorization: a Bearer JWT signed by a registered EHR is required")
    try:
        header = jwt.get_unverified_header(token)
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
    except jwt.PyJWTError as exc:
        raise Untrusted(f"Authorization: not a JWT ({exc})") from None
    keys = clients.get(issuer) if isinstance(issuer, str) else None
    if keys is None:
        raise Untrusted(f"iss: {issuer!r} is not a registered CDS client")
    if header.get("alg") not in ALGORITHMS:
        raise Untrusted(f"alg: must be one of {', '.join(ALGORITHMS)}")
    key = _key(keys, header.get("kid"))
    algorithm = KEY_ALGORITHMS.get(key.key_type)
    if header["alg"] != algorithm:  # else the library is handed a key of the wrong kind (a 500, not a 401)
        raise Untrusted(f"alg: {header['alg']} does not fit the issuer's {key.key_type} key ({algorithm})")
    try:
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY,
            options={"require": ["iss", "aud", "exp", "iat", "jti"]},
        )
    except (jwt.PyJWTError, TypeError, ValueError) as exc:
        raise Untrusted(f"token: {exc}") from None
    if not isinstance(claims["exp"], int | float):
        raise Untrusted("exp: must be a number (seconds since 1970)")
    if claims["exp"] > time.time() + MAX_LIFETIME + LEEWAY:
        raise Untrusted(f"exp: at most {MAX_LIFETIME // 60} minutes ahead")
    if not first_use(f"cds-jti:{issuer}:{claims['jti']}", MAX_LIFETIME + 2 * LEEWAY):
        raise Untrusted("jti: this token was used already")
    return issuer


def _key(keys: jwt.PyJWKSet, kid: str | None) -> jwt.PyJWK:
    if kid is None:
        if len(keys.keys) == 1:
            return keys.keys[0]
        raise Untrusted("kid: required (the issuer has several keys)")
    for key in keys.keys:
        if key.key_id == kid:
            return key
    raise Untrusted(f"kid: {kid!r} is not one of the issuer's registered keys")
