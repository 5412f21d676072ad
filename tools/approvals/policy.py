"""The approval policy file: who approves what, exchange rates and SLAs, validated on load."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from tools.approvals.models import ApprovalKind
from tools.errors import ErrorCode, ToolError
from tools.people.models import Role

RULE_KEYS = {"kind", "chain", "leave_types", "working_days_over", "categories", "amount_over"}
TOP_KEYS = {"company_currency", "approvers", "exchange_rates", "sla_hours", "rules"}


@dataclass(frozen=True)
class Rule:
    """One rule: conditions on a request's facts and the chain of roles that approve it."""

    kind: ApprovalKind
    chain: tuple[Role, ...]
    leave_types: frozenset[str] | None = None
    working_days_over: Decimal | None = None
    categories: frozenset[str] | None = None
    amount_over: Decimal | None = None

    def matches(self, facts: dict[str, Any]) -> bool:
        """Return True when every condition of the rule holds for these facts."""
        if self.leave_types is not None and facts.get("leave_type") not in self.leave_types:
            return False
        if self.working_days_over is not None and Decimal(str(facts.get("working_days", 0))) <= self.working_days_over:
            return False
        if self.categories is not None and facts.get("category") not in self.categories:
            return False
        if self.amount_over is not None and Decimal(str(facts.get("amount_company", 0))) <= self.amount_over:
            return False
        return True


@dataclass(frozen=True)
class ApprovalPolicy:
    """Everything the approval gate and the money rules read from configuration."""

    rules: tuple[Rule, ...]
    company_currency: str = "USD"
    approvers: dict[str, str] = field(default_factory=dict)
    exchange_rates: dict[str, Decimal] = field(default_factory=dict)
    sla_hours: dict[str, int] = field(default_factory=dict)

    def chain_for(self, kind: ApprovalKind, facts: dict[str, Any]) -> tuple[Role, ...]:
        """Return the approval chain of the first matching rule."""
        for rule in self.rules:
            if rule.kind == kind and rule.matches(facts):
                return rule.chain
        raise ToolError(ErrorCode.CONFIGURATION, f"The approval policy has no rule for {kind} requests.")


def _decimal(value: Any, where: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise ToolError(ErrorCode.CONFIGURATION, f"{where}: '{value}' is not a number.") from error


def _parse_rule(raw: dict[str, Any], index: int) -> Rule:
    where = f"approval policy rule {index + 1}"
    unknown = set(raw) - RULE_KEYS
    if unknown:
        raise ToolError(ErrorCode.CONFIGURATION, f"{where}: unknown keys {sorted(unknown)}.")
    try:
        kind = ApprovalKind(raw["kind"])
        chain = tuple(Role(step) for step in raw["chain"])
    except (KeyError, ValueError) as error:
        raise ToolError(ErrorCode.CONFIGURATION, f"{where}: needs a valid kind and chain ({error}).") from error
    if not 1 <= len(chain) <= 2:
        raise ToolError(ErrorCode.CONFIGURATION, f"{where}: a chain has one or two steps.")
    return Rule(
        kind=kind,
        chain=chain,
        leave_types=frozenset(raw["leave_types"]) if "leave_types" in raw else None,
        working_days_over=_decimal(raw["working_days_over"], where) if "working_days_over" in raw else None,
        categories=frozenset(raw["categories"]) if "categories" in raw else None,
        amount_over=_decimal(raw["amount_over"], where) if "amount_over" in raw else None,
    )


def parse_policy(text: str) -> ApprovalPolicy:
    """Parse and validate policy TOML, refusing unknown keys and malformed rules."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ToolError(ErrorCode.CONFIGURATION, f"The approval policy file is not valid TOML: {error}.") from error
    unknown = set(raw) - TOP_KEYS
    if unknown:
        raise ToolError(ErrorCode.CONFIGURATION, f"The approval policy has unknown keys {sorted(unknown)}.")
    for key in ("approvers", "exchange_rates", "sla_hours"):
        if not isinstance(raw.get(key, {}), dict):
            raise ToolError(ErrorCode.CONFIGURATION, f"The approval policy's {key} must be a [{key}] table.")
    if not isinstance(raw.get("rules", []), list) or not all(isinstance(rule, dict) for rule in raw.get("rules", [])):
        raise ToolError(ErrorCode.CONFIGURATION, "The approval policy's rules must be [[rules]] tables.")
    return ApprovalPolicy(
        rules=tuple(_parse_rule(rule, index) for index, rule in enumerate(raw.get("rules", []))),
        company_currency=str(raw.get("company_currency", "USD")).upper(),
        approvers=_approvers(raw.get("approvers", {})),
        exchange_rates={code.upper(): _decimal(rate, "exchange_rates") for code, rate in raw.get("exchange_rates", {}).items()},
        sla_hours={str(key): _hours(value, key) for key, value in raw.get("sla_hours", {}).items()},
    )


NAMED_ROLES = ("hr", "finance", "it", "admin")  # the roles a step can name a person for (a manager is the requester's own)


def _approvers(raw: dict[str, Any]) -> dict[str, str]:
    """Read [approvers]: role = "email", each role one of NAMED_ROLES and each email one address."""
    approvers: dict[str, str] = {}
    for role, email in raw.items():
        if role not in NAMED_ROLES:
            raise ToolError(ErrorCode.CONFIGURATION, f"The approval policy names an approver for '{role}', which is no role "
                                                     f"a step can name a person for; use {', '.join(NAMED_ROLES)} (lower case).")
        if not isinstance(email, str) or "@" not in email or len(email.split()) != 1:
            raise ToolError(ErrorCode.CONFIGURATION, f"The approval policy's {role} approver must be one email address, "
                                                     f"like {role} = \"name@example.com\" (got {email!r}).")
        approvers[role] = email.strip().lower()
    return approvers


def _hours(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ToolError(ErrorCode.CONFIGURATION, f"The approval policy's sla_hours.{key} must be a whole number of hours.")
    return value


def load_policy(path: Path | None = None) -> ApprovalPolicy:
    """Load the policy file at `path`, or the bundled default."""
    if path is None:
        text = resources.files("tools.approvals").joinpath("default_policy.toml").read_text(encoding="utf-8")
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ToolError(ErrorCode.CONFIGURATION, f"Cannot read the approval policy file {path}: {error}.") from error
    return parse_policy(text)
