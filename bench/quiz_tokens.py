"""Access tokens for the quiz benchmark (bench/quiz.sh), minted here rather than by
300,000 logins: exactly what crates/api/src/auth/jwt.rs `Keys::issue` signs. HS256 over
the service's secret; header `kid` = the first 8 bytes, in hex, of
SHA-256("unionhall-jwt-kid:" + secret); claims sub, roles, iss, aud, exp, nbf, iat, jti.
The service checks the signature, kid, iss, aud, exp and nbf, then loads the account
and its roles from the database (the roles claim is informational), so a token is
good for as long as its exp says.

  QUIZ_JWT_SECRET=… python3 bench/quiz_tokens.py members N ISSUER AUDIENCE TTL > file
      "n token" per line, n = 1..N, for member account n (id 01920000-0000-7000-8000-<n>,
      no roles: see bench/quiz_load.sql)
  QUIZ_JWT_SECRET=… python3 bench/quiz_tokens.py user ID ROLES_JSON ISSUER AUDIENCE TTL
      one token for account ID, ROLES_JSON = [{"role": …, "org_id": …}, …]
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import uuid


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def minter(secret: str, issuer: str, audience: str, ttl: int):
    key = secret.encode("utf-8")
    kid = hashlib.sha256(f"unionhall-jwt-kid:{secret}".encode("utf-8")).hexdigest()[:16]
    header = b64(json.dumps({"typ": "JWT", "alg": "HS256", "kid": kid}, separators=(",", ":")).encode())
    now = int(time.time())

    def mint(sub: str, roles: list) -> str:
        claims = {"sub": sub, "roles": roles, "iss": issuer, "aud": audience,
                  "exp": now + ttl, "nbf": now, "iat": now, "jti": str(uuid.uuid4())}
        signing_input = header + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
        return signing_input + "." + b64(signature)

    return mint


def main() -> None:
    secret = os.environ["QUIZ_JWT_SECRET"]
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "members":
        count, issuer, audience, ttl = int(args[0]), args[1], args[2], int(args[3])
        mint = minter(secret, issuer, audience, ttl)
        out = sys.stdout
        for n in range(1, count + 1):
            out.write(f"{n} {mint(f'01920000-0000-7000-8000-{n:012d}', [])}\n")
    elif mode == "user":
        user, roles, issuer, audience, ttl = args[0], json.loads(args[1]), args[2], args[3], int(args[4])
        print(minter(secret, issuer, audience, ttl)(user, roles))
    else:
        sys.exit(f"unknown mode {mode!r}: members or user")


if __name__ == "__main__":
    main()
