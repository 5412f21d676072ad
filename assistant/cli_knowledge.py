"""`backoffice kb`: add, list, remove and search the policy knowledge base."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress

from assistant.cli_common import JsonFlag, emit, emit_rows, err, open_container, out, refusals, table
from assistant.errors import error_text

if TYPE_CHECKING:
    from knowledge.index import IngestReport, SearchHit

kb_app = typer.Typer(help="The policy knowledge base.", no_args_is_help=True)
ModeOption = Annotated[str, typer.Option("--mode", help="hybrid, dense or keyword.")]
AsOption = Annotated[str | None, typer.Option("--as", help="Search as this employee (their audiences).")]
MAX_K = 50


def _report_data(report: IngestReport) -> dict[str, Any]:
    from knowledge.index import AddOutcome

    counts = {outcome.value: report.count(outcome) for outcome in AddOutcome}
    files = [{"path": f.path, "outcome": f.outcome.value, "doc_id": f.doc_id, "chunks": f.chunks, "reason": f.reason} for f in report.files]
    rate = report.chunks / report.seconds if report.seconds else 0.0
    return {**counts, "chunks": report.chunks, "seconds": round(report.seconds, 2), "chunks_per_second": round(rate, 1), "files": files}


@kb_app.command("add")
@refusals
def kb_add(paths: list[Path], audience: Annotated[str | None, typer.Option(help="Restrict to a role, e.g. managers.")] = None,
           added_by: Annotated[str, typer.Option("--as", help="Who is adding (recorded on the document).")] = "admin",
           as_json: JsonFlag = False) -> None:
    """Add or replace documents (files or folders); unchanged files are skipped."""
    from knowledge.index import expand_paths

    files = expand_paths(paths)
    with open_container() as container, Progress(console=err, transient=True) as progress:
        task = progress.add_task("Indexing", total=len(files))
        report = container.knowledge.base.add_sources(files, added_by=added_by, audience=audience,
                                                      progress=lambda _path: progress.advance(task))
    data = _report_data(report)
    if as_json:
        emit(data, True)
    else:
        table([f for f in data["files"]], ["path", "outcome", "doc_id", "chunks", "reason"], "Ingestion report")
        skipped = f"skipped {data['skipped']} (nothing to index, or a link), " if data["skipped"] else ""
        out.print(f"added {data['added']}, replaced {data['replaced']}, unchanged {data['unchanged']}, {skipped}failed {data['failed']} "
                  f"({data['chunks']} chunks, {data['chunks_per_second']} chunks/s)")
    if data["failed"]:  # the reasons go to stderr too, as every refusal does; the report above keeps them per file
        for item in data["files"]:
            if item["outcome"] == "failed":
                err.print(f"Error: {item['reason']}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)


@kb_app.command("list")
@refusals
def kb_list(as_json: JsonFlag = False) -> None:
    """List the indexed documents."""
    with open_container() as container:
        rows = [record.__dict__ for record in container.knowledge.base.list_documents()]
    emit_rows(rows, as_json, ["doc_id", "title", "audience", "chunk_count", "added_by", "added_at", "source"], "Policy documents")


@kb_app.command("remove")
@refusals
def kb_remove(doc_id: str, as_json: JsonFlag = False) -> None:
    """Remove a document from the knowledge base."""
    with open_container() as container:
        container.knowledge.base.remove(doc_id)
    emit({"doc_id": doc_id, "removed": True}, as_json, f"Removed {doc_id}.")


def _result(query: str, hits: list[SearchHit]) -> dict[str, Any]:
    """One query's passages in the shape DESIGN.md gives: {"query", "results": [...]}.

    `score` is what the passages are ordered by (0..1, the best first); `relevance` is the passage's cosine
    similarity to the question, the figure the "not covered" threshold is set on.
    """
    return {"query": query, "results": [{"doc_id": h.doc_id, "source": h.source, "title": h.title, "section": h.section,
                                         "score": round(h.rank_score, 6), "relevance": round(h.score, 6), "text": h.text}
                                        for h in hits]}


def _audiences(container: Any, email: str | None) -> frozenset[str]:
    if email is None:
        return frozenset()
    from assistant.operations import roles_of

    return roles_of(container, email)


@kb_app.command("search")
@refusals
def kb_search(query: Annotated[str | None, typer.Argument()] = None, k: Annotated[int, typer.Option("--k", min=1, max=MAX_K)] = 5,
              mode: ModeOption = "hybrid", as_email: AsOption = None,
              jsonl: Annotated[bool, typer.Option("--jsonl", help="Read {\"query\": ...} lines from stdin.")] = False,
              as_json: JsonFlag = False) -> None:
    """Search the policies; --jsonl answers one line of stdin per query."""
    from knowledge.index import SearchMode

    if mode not in {m.value for m in SearchMode}:
        raise typer.BadParameter("--mode must be hybrid, dense or keyword")
    search_mode = SearchMode(mode)
    with open_container() as container:
        audiences = _audiences(container, as_email)
        base = container.knowledge.base
        threshold = container.settings.answer_threshold
        if jsonl:
            for line in sys.stdin:
                if line.strip():
                    out.print(json.dumps(_jsonl_answer(base, line, k, search_mode, audiences)), markup=False, highlight=False)
            return
        if not query:
            raise typer.BadParameter("give a QUERY or use --jsonl")
        result = _result(query, base.search(query, k=k, mode=search_mode, audiences=audiences))
    if as_json:
        emit(result, True)
        return
    if max((hit["relevance"] for hit in result["results"]), default=0.0) < threshold:
        out.print(f"The policies do not seem to cover this: no passage scores {threshold} or more "
                  "(BACKOFFICE_ANSWER_THRESHOLD); the assistant would say so and offer HR.", markup=False, highlight=False)
    for number, hit in enumerate(result["results"], 1):
        # A section label starts with its document's title ("Time off > Holidays"); headings may hold [brackets].
        out.print(f"[bold]{number}. {escape(hit['section'])}[/bold] (score {hit['score']:.3f}, relevance {hit['relevance']:.3f}, "
                  f"{escape(hit['doc_id'])})")
        out.print(hit["text"][:500], markup=False, highlight=False)


def _jsonl_answer(base: Any, line: str, k: int, mode: Any, audiences: frozenset[str]) -> dict[str, Any]:
    request: Any = None
    try:
        request = json.loads(line)
        query = request.get("query") if isinstance(request, dict) else None
        if not isinstance(query, str):
            return {"query": None, "results": [], "error": "each line needs {\"query\": \"...\"}"}
        line_k = request.get("k", k)
        if isinstance(line_k, bool) or not isinstance(line_k, int) or not 1 <= line_k <= MAX_K:
            return {"query": query, "results": [], "error": f"\"k\" must be a whole number from 1 to {MAX_K}"}
        return _result(query, base.search(query, k=line_k, mode=mode, audiences=audiences))
    except json.JSONDecodeError as error:
        return {"query": None, "results": [], "error": f"not JSON: {error.msg}"}
    except Exception as error:  # noqa: BLE001 - a refusal, or a fault logged with its id: that line's answer; the batch goes on
        return {"query": request.get("query") if isinstance(request, dict) else None, "results": [], "error": error_text(error)}
