"""The tool registry: every tool the pipeline can run, listed explicitly in one place."""

from __future__ import annotations

from tools.approvals import tools as approvals
from tools.expenses import tools as expenses
from tools.helpdesk import tools as helpdesk
from tools.leave import tools as leave
from tools.people.models import Role
from tools.pipeline import ToolSpec
from tools.policies import tools as policies


def build_registry() -> dict[str, ToolSpec]:
    """Return the registry of tools, keyed by name."""
    specs = [
        ToolSpec("get_leave_balance", leave.get_leave_balance, leave.GetLeaveBalanceArgs, writes=False),
        ToolSpec("request_leave", leave.request_leave, leave.RequestLeaveArgs, writes=True, hooks=leave.LEAVE_HOOKS),
        ToolSpec("preview_leave_request", leave.preview_leave_request, leave.RequestLeaveArgs, writes=False),
        ToolSpec("list_my_leave", leave.list_my_leave, leave.ListLeaveArgs, writes=False),
        ToolSpec("get_leave_request", leave.get_leave_request, leave.LeaveRequestIdArgs, writes=False),
        ToolSpec("list_holidays", leave.list_holidays, leave.ListHolidaysArgs, writes=False),
        ToolSpec("list_team_leave", leave.list_team_leave, leave.TeamLeaveArgs, writes=False,
                 roles=frozenset({Role.MANAGER, Role.HR, Role.ADMIN})),
        ToolSpec("cancel_leave", leave.cancel_leave, leave.LeaveRequestIdArgs, writes=True),
        ToolSpec("submit_expense", expenses.submit_expense, expenses.SubmitExpenseArgs, writes=True, hooks=expenses.EXPENSE_HOOKS),
        ToolSpec("preview_expense", expenses.preview_expense, expenses.SubmitExpenseArgs, writes=False),
        ToolSpec("list_my_expenses", expenses.list_my_expenses, expenses.ListExpensesArgs, writes=False),
        ToolSpec("get_expense", expenses.get_expense, expenses.ClaimIdArgs, writes=False),
        ToolSpec("mark_expense_reimbursed", expenses.mark_expense_reimbursed, expenses.ClaimIdArgs, writes=True,
                 roles=frozenset({Role.FINANCE})),
        ToolSpec("preview_reimbursement", expenses.preview_reimbursement, expenses.ClaimIdArgs, writes=False,
                 roles=frozenset({Role.FINANCE})),
        ToolSpec("create_ticket", helpdesk.create_ticket, helpdesk.CreateTicketArgs, writes=True),
        ToolSpec("request_human_handoff", helpdesk.request_human_handoff, helpdesk.HumanHandoffArgs, writes=True),
        ToolSpec("list_my_tickets", helpdesk.list_my_tickets, helpdesk.ListTicketsArgs, writes=False),
        ToolSpec("get_ticket", helpdesk.get_ticket, helpdesk.TicketIdArgs, writes=False),
        ToolSpec("preview_comment", helpdesk.preview_comment, helpdesk.CommentArgs, writes=False),
        ToolSpec("comment_on_ticket", helpdesk.comment_on_ticket, helpdesk.CommentArgs, writes=True),
        ToolSpec("list_ticket_queue", helpdesk.list_ticket_queue, helpdesk.TicketQueueArgs, writes=False),
        ToolSpec("preview_ticket_update", helpdesk.preview_ticket_update, helpdesk.UpdateTicketArgs, writes=False),
        ToolSpec("update_ticket", helpdesk.update_ticket, helpdesk.UpdateTicketArgs, writes=True),
        ToolSpec("preview_system_access", helpdesk.preview_system_access, helpdesk.SystemAccessArgs, writes=False),
        ToolSpec("request_system_access", helpdesk.request_system_access, helpdesk.SystemAccessArgs, writes=True,
                 hooks=helpdesk.ACCESS_HOOKS),
        ToolSpec("list_pending_approvals", approvals.list_pending_approvals, approvals.ListPendingArgs, writes=False),
        ToolSpec("preview_decision", approvals.preview_decision, approvals.DecideApprovalArgs, writes=False),
        ToolSpec("decide_approval", approvals.decide_approval, approvals.DecideApprovalArgs, writes=True),
        ToolSpec("search_policies", policies.search_policies, policies.SearchPoliciesArgs, writes=False, read_only=True),
    ]
    return {spec.name: spec for spec in specs}
