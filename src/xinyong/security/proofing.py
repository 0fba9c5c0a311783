"""Identity proofing of subject accounts: is the person opening the account really the enterprise's
representative, or the person whose ID number it is?

The platform does not decide this by itself; an adapter does. Built in:

- `counter` (窗口核验, the default): an operator checked the original documents in person at a service
  window (营业执照 and the representative's 居民身份证 or 授权委托书; a person's 居民身份证) and says so,
  by name. The account is opened by that operator (`xinyong user add-subject`).
- `demo`: accepts any well-formed code, and only in demo mode.

A real deployment plugs in its government identity service with `XINYONG_IDENTITY_PROOFING=module:factory`
(a callable returning an object with `name` and `verify()`): for enterprises the national electronic
business licence (电子营业执照) or the provincial government-service login (湖北政务服务网 / 鄂汇办 法人认证);
for persons the provincial unified identity authentication (实名认证), the Ministry of Public Security's
CTID network identity (网证), or face verification against the ID photo.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from xinyong.clock import Clock
from xinyong.codes import check_idcard, check_uscc, normalize_code
from xinyong.problems import Problem, ProblemError

SubjectKind = Literal["enterprise", "person"]


@dataclass(frozen=True)
class SubjectClaim:
    """Who someone says they are: an enterprise (its USCC) or a person (their ID number), and a name."""

    kind: SubjectKind
    code: str
    name: str
    evidence: Mapping[str, str] = field(default_factory=dict)

    def normalised(self) -> SubjectClaim:
        return SubjectClaim(self.kind, normalize_code(self.code), self.name.strip(), dict(self.evidence))


@dataclass(frozen=True)
class Proof:
    adapter: str
    reference: str  # what the adapter checked or its transaction id; never the ID number itself
    at: dt.datetime


class IdentityProofing(Protocol):
    name: str

    def verify(self, claim: SubjectClaim, *, clock: Clock) -> Proof:
        """Return a Proof, or raise ProblemError saying why the claim is not accepted."""
        ...


def check_claim_code(claim: SubjectClaim) -> None:
    result = check_uscc(claim.code) if claim.kind == "enterprise" else check_idcard(claim.code)
    if not result.valid:
        raise ProblemError(*result.errors)
    if not claim.name:
        raise ProblemError(Problem("proofing.name", "请填写名称或姓名", "a name is required", field="name"))


class CounterProofing:
    """窗口核验: an operator vouches, by name, that they saw the original documents."""

    name = "counter"

    def verify(self, claim: SubjectClaim, *, clock: Clock) -> Proof:
        check_claim_code(claim)
        checked_by = claim.evidence.get("checked_by", "").strip()
        document = claim.evidence.get("document", "").strip()
        if not checked_by or not document:
            raise ProblemError(
                Problem(
                    "proofing.counter_evidence",
                    "窗口核验须写明核验人和所核验的证件（如：营业执照、法定代表人身份证、授权委托书、居民身份证）。",
                    "Counter proofing needs the checking operator and the documents seen "
                    "(e.g. business licence, representative's ID card, power of attorney, resident ID card).",
                )
            )
        return Proof(self.name, f"checked_by={checked_by}; document={document}"[:200], clock.now())


class DemoProofing:
    """Accepts any well-formed code. Refused outside demo mode: it proves nothing."""

    name = "demo"

    def verify(self, claim: SubjectClaim, *, clock: Clock) -> Proof:
        check_claim_code(claim)
        return Proof(self.name, "demo: not verified", clock.now())


def load_proofing(name: str, *, demo: bool) -> IdentityProofing:
    if name == "counter":
        return CounterProofing()
    if name == "demo":
        if not demo:
            raise ProblemError(
                Problem(
                    "proofing.demo_refused",
                    "演示用身份核验（demo）只能在演示模式下使用。",
                    "The demo identity proofing is only accepted in demo mode.",
                )
            )
        return DemoProofing()
    module, _, attr = name.partition(":")
    if not attr:
        raise ProblemError(
            Problem(
                "proofing.unknown",
                f"未知的身份核验方式 {name!r}：可选 counter、demo 或 模块:工厂函数",
                f"unknown identity proofing {name!r}: counter, demo, or module:factory",
            )
        )
    return getattr(importlib.import_module(module), attr)()
