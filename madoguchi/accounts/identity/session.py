"""The relying party's side of a login in progress, kept in the session.

``flow_begin`` makes ``state``, ``nonce`` and the PKCE ``code_verifier`` and stores
them under the ``state`` (a few flows may run at once, e.g. in two tabs);
``flow_pop`` takes a flow out exactly once, so a callback cannot be replayed. Flows
older than ``FLOW_MAX_AGE`` are dropped.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from madoguchi.accounts.identity.pkce import code_challenge_s256, new_code_verifier, random_token

SESSION_KEY = "accounts_identity_flows"
FLOW_MAX_AGE = 600
MAX_FLOWS = 5


@dataclass(frozen=True)
class Flow:
    provider: str
    state: str
    nonce: str
    code_verifier: str
    next_url: str
    started: float

    @property
    def code_challenge(self) -> str:
        return code_challenge_s256(self.code_verifier)


def _flows(request: HttpRequest) -> dict[str, dict[str, Any]]:
    raw = request.session.get(SESSION_KEY)
    flows = raw if isinstance(raw, dict) else {}
    now = time.time()
    return {k: v for k, v in flows.items() if isinstance(v, dict) and now - float(v.get("started", 0)) < FLOW_MAX_AGE}


def flow_begin(request: HttpRequest, *, provider: str, next_url: str) -> Flow:
    flow = Flow(
        provider=provider,
        state=random_token(32),
        nonce=random_token(32),
        code_verifier=new_code_verifier(),
        next_url=next_url,
        started=time.time(),
    )
    flows = _flows(request)
    for old in sorted(flows, key=lambda k: float(flows[k]["started"]))[: max(0, len(flows) - MAX_FLOWS + 1)]:
        del flows[old]
    flows[flow.state] = {
        "provider": flow.provider,
        "nonce": flow.nonce,
        "code_verifier": flow.code_verifier,
        "next": flow.next_url,
        "started": flow.started,
    }
    request.session[SESSION_KEY] = flows
    return flow


def flow_pop(request: HttpRequest, *, provider: str, state: str) -> Flow | None:
    """The flow started with ``state`` for ``provider``, removed from the session;
    None if there is none (wrong, reused or expired state)."""
    flows = _flows(request)
    match = next((k for k in flows if state and hmac.compare_digest(k, state)), None)
    if match is None:
        request.session[SESSION_KEY] = flows
        return None
    data = flows.pop(match)
    request.session[SESSION_KEY] = flows
    if data.get("provider") != provider:
        return None
    return Flow(
        provider=provider,
        state=match,
        nonce=str(data["nonce"]),
        code_verifier=str(data["code_verifier"]),
        next_url=str(data.get("next") or ""),
        started=float(data["started"]),
    )
