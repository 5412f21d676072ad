"""The search_policies tool: answers from the company's policy documents, with citations."""

from __future__ import annotations

from pydantic import Field

from tools.errors import ErrorCode, ToolError
from tools.pipeline import ToolArgs, ToolContext, ToolResult
from tools.policies.ports import PolicyPassage

NOT_COVERED = ("Our policy documents don't cover that. I can hand this over to HR: say \"talk to a human\" "
               "and I'll open a ticket for you.")


class SearchPoliciesArgs(ToolArgs):
    query: str = Field(min_length=1, max_length=2000, description="The policy question, in the employee's words.")
    k: int = Field(5, ge=1, le=20, description="How many passages to return.")


def cite(passage: PolicyPassage) -> str:
    """Return the citation of a passage: 'Title > Section'."""
    return passage.section if passage.section.startswith(passage.title) else f"{passage.title} > {passage.section}"


def _as_json(passage: PolicyPassage) -> dict[str, object]:
    return {"doc_id": passage.doc_id, "title": passage.title, "section": passage.section, "source": passage.source,
            "citation": cite(passage), "score": passage.score, "text": passage.text}


def search_policies(ctx: ToolContext, args: SearchPoliciesArgs) -> ToolResult:
    """Answer a question from the company's policy documents, quoting them with citations."""
    if ctx.knowledge is None:
        raise ToolError(ErrorCode.CONFIGURATION, "The policy knowledge base is not set up; ask an admin to add documents.")
    answer = ctx.knowledge.lookup(args.query, roles=frozenset(role.value for role in ctx.actor.roles), k=args.k)
    data = {"covered": answer.covered, "quotes": [_as_json(q) for q in answer.quotes],
            "passages": [_as_json(p) for p in answer.passages]}
    if not answer.covered:
        return ToolResult(data=data, message=NOT_COVERED)
    lines = [f"“{quote.text}” ({cite(quote)})" for quote in answer.quotes]
    return ToolResult(data=data, message="\n".join(lines))
