"""What the agent's write tools read back before anything is written, and the pending write kept until a yes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.dialogue.flows import FLOWS, Flow

# Tools that change something: the agent never runs them itself, it reads them back and waits for a yes.
PREVIEWS: dict[str, Flow] = {flow.tool: flow for flow in FLOWS.values()}
# Writes the offline engine has no flow for, with the read tool that checks them before the read-back.
OTHER_PREVIEWS = {"mark_expense_reimbursed": "preview_reimbursement", "update_ticket": "preview_ticket_update"}
# What a write is called when the person is told it has to wait for the one being confirmed.
WRITE_NAMES = {"request_leave": "the leave request", "cancel_leave": "the cancellation", "submit_expense": "the expense claim",
               "create_ticket": "the ticket", "request_system_access": "the access request", "comment_on_ticket": "the comment",
               "decide_approval": "the other decision", "request_human_handoff": "the hand-over to a person",
               "mark_expense_reimbursed": "the other payout"}


def preview_tool(tool: str) -> str | None:
    """Return the read tool that checks a write and computes its read-back facts, if it has one."""
    flow = PREVIEWS.get(tool)
    return flow.preview_tool if flow is not None else OTHER_PREVIEWS.get(tool)


@dataclass(frozen=True)
class PendingWrite:
    """A write the model asked for, validated and previewed, waiting for the person's yes."""

    tool: str
    args: dict[str, Any]
    readback: str

    def as_json(self) -> dict[str, Any]:
        """Return the state to store with the conversation."""
        return {"tool": self.tool, "args": self.args, "readback": self.readback}

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> PendingWrite | None:
        """Return the stored pending write, if any."""
        if not raw:
            return None
        return cls(tool=str(raw["tool"]), args=dict(raw["args"]), readback=str(raw["readback"]))


def readback_text(tool: str, args: dict[str, Any], preview: dict[str, Any]) -> str:
    """Return the confirmation question for a write: the offline engine's read-back where there is one."""
    flow = PREVIEWS.get(tool)
    if flow is not None:
        return flow.confirm_text({key: str(value) for key, value in args.items()}, preview)
    if tool == "mark_expense_reimbursed":
        whose = (f" ({preview['employee']}: {preview['amount']} {preview['currency']} at {preview['merchant']})"
                 if preview.get("employee") else "")
        return f"Mark expense claim #{args['claim_id']}{whose} as reimbursed? Shall I record it?"
    if tool == "update_ticket":
        said = [f"{field} {change}" for field, change in (preview.get("changes") or {}).items()]
        said += [f"note for the requester: \u201c{preview['note']}\u201d"] if preview.get("note") else []
        return f"Update ticket #{args['ticket_id']} ({preview.get('summary', '')}): {'; '.join(said)}. Shall I record it?"
    return f"Run {tool} with {args}? Shall I go ahead?"
