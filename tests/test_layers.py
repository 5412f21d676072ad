"""The layer rule of DESIGN.md, checked on the source's imports so it cannot drift.

assistant/slack -> assistant/cli -> assistant core -> tools -> knowledge -> prompts; only the Slack adapter
imports slack_bolt/slack_sdk, only the agent imports langchain*, only knowledge/ imports chromadb, and only
assistant/cli.py prints. Imports inside functions and under TYPE_CHECKING count too: they are dependencies.
"""

from __future__ import annotations

import ast
import re
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUR_PACKAGES = ("assistant", "tools", "knowledge", "prompts")
SLACK = ("slack_bolt", "slack_sdk")
LLM = ("langchain", "langchain_core", "langchain_openai", "langchain_community", "langchain_text_splitters", "langgraph")
CHROMA = ("chromadb",)
HEAVY = (*CHROMA, *LLM, *SLACK, "openai", "onnxruntime", "tokenizers")
CONSOLE_SCRIPT = Path(sys.executable).parent / "backoffice"


@dataclass(frozen=True)
class Import:
    """One module imported by one source file."""

    path: str  # relative to the project root, with forward slashes
    line: int
    module: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} imports {self.module}"


@dataclass(frozen=True)
class Output:
    """One place where a source file writes to the terminal."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.what}"


def module_of(relative: Path) -> tuple[str, str]:
    """Return (module name, package name) of a source file given relative to the root."""
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def _resolve(package: str, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = package.split(".")[: len(package.split(".")) - (level - 1)]
    return ".".join([*base, *([name] if name else [])])


def _constant_string(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def imported_modules(source: str, relative: Path) -> list[tuple[int, str]]:
    """Return (line, module) for every import statement and literal importlib.import_module/__import__ call."""
    _, package = module_of(relative)
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source, filename=str(relative))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(package, node.level, node.module)
            found.append((node.lineno, base))
            # `from . import x` and `from pkg import sub` may name submodules.
            found.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*")
        elif isinstance(node, ast.Call) and node.args:
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else function.id if isinstance(function, ast.Name) else ""
            target = _constant_string(node.args[0])
            if called in {"import_module", "__import__"} and target:
                found.append((node.lineno, target))
    return found


def terminal_output(source: str, relative: Path) -> list[Output]:
    """Return calls to print/pprint/echo, writes to sys.stdout/stderr and rich imports."""
    path = relative.as_posix()
    found: list[Output] = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Call):
            function = node.func
            if isinstance(function, ast.Name) and function.id in {"print", "pprint"}:
                found.append(Output(path, node.lineno, f"calls {function.id}()"))
            elif isinstance(function, ast.Attribute):
                owner = function.value
                if isinstance(owner, ast.Name) and owner.id in {"typer", "click"} and function.attr in {"echo", "secho"}:
                    found.append(Output(path, node.lineno, f"calls {owner.id}.{function.attr}()"))
                if (function.attr == "write" and isinstance(owner, ast.Attribute) and owner.attr in {"stdout", "stderr"}
                        and isinstance(owner.value, ast.Name) and owner.value.id == "sys"):
                    found.append(Output(path, node.lineno, f"writes to sys.{owner.attr}"))
    for line, module in imported_modules(source, relative):
        if within(module, "rich", "pprint"):
            found.append(Output(path, line, f"imports {module}"))
    return found


def within(module: str, *roots: str) -> bool:
    """Return True when the module is one of the roots or inside one of them."""
    return any(module == root or module.startswith(root + ".") for root in roots)


def is_llm(module: str) -> bool:
    """Return True for langchain*, langgraph and their submodules."""
    top = module.split(".")[0]
    return top.startswith("langchain") or top.startswith("langgraph")


def source_files(*packages: str) -> list[Path]:
    """Return the Python files of our packages, relative to the root."""
    files: list[Path] = []
    for package in packages:
        folder = ROOT / package
        if folder.is_dir():
            files.extend(path.relative_to(ROOT) for path in folder.rglob("*.py") if "__pycache__" not in path.parts)
    return sorted(files)


def all_imports(*packages: str) -> list[Import]:
    """Return every import made by the given packages' files."""
    return [
        Import(relative.as_posix(), line, module)
        for relative in source_files(*packages)
        for line, module in imported_modules((ROOT / relative).read_text(encoding="utf-8"), relative)
    ]


def in_folder(site: Import, *prefixes: str) -> bool:
    """Return True when the importing file is one of the given files or inside one of the given folders."""
    return any(site.path == prefix or site.path.startswith(prefix.rstrip("/") + "/") for prefix in prefixes)


def violations(sites: list[Import], forbidden: tuple[str, ...] | Callable[[str], bool]) -> list[str]:
    """Return the sites whose module is forbidden (inside one of the roots, or matching the predicate)."""
    if isinstance(forbidden, tuple):
        roots = forbidden
        return [str(site) for site in sites if within(site.module, *roots)]
    return [str(site) for site in sites if forbidden(site.module)]


# --- the checker itself ---------------------------------------------------------------------------


def test_the_import_scanner_sees_every_form_of_import() -> None:
    source = (
        "import chromadb\n"
        "from slack_bolt.adapter import x\n"
        "from . import sibling\n"
        "from ..service import thing\n"
        "def later():\n"
        "    import langchain_openai\n"
        "    importlib.import_module('langgraph.graph')\n"
        "if TYPE_CHECKING:\n"
        "    from assistant.container import Container\n"
    )
    modules = {module for _, module in imported_modules(source, Path("tools/leave/tools.py"))}
    assert {"chromadb", "slack_bolt.adapter", "tools.leave.sibling", "tools.service", "tools.service.thing",
            "langchain_openai", "langgraph.graph", "assistant.container"} <= modules
    assert {module for _, module in imported_modules("from . import x\n", Path("tools/leave/__init__.py"))} >= {"tools.leave.x"}
    printing = "print('x')\nsys.stdout.write('y')\ntyper.echo('z')\nfrom rich.console import Console\nlog.info('fine')\n"
    found = [output.what for output in terminal_output(printing, Path("tools/x.py"))]
    assert found == ["calls print()", "writes to sys.stdout", "calls typer.echo()", "imports rich.console", "imports rich.console.Console"]


def test_the_source_tree_is_where_the_rules_expect_it() -> None:
    assert (ROOT / "assistant" / "cli.py").is_file()
    assert len(source_files("tools")) > 10 and len(source_files("assistant")) > 3
    # The rules below are only as good as the scan: every file must parse.
    for relative in source_files(*OUR_PACKAGES):
        ast.parse((ROOT / relative).read_text(encoding="utf-8"), filename=str(relative))


# --- the layer rule -----------------------------------------------------------------------------


def test_tools_imports_no_layer_above_it_and_no_edge_library() -> None:
    sites = all_imports("tools")
    assert violations(sites, ("assistant", "knowledge", *SLACK, *CHROMA)) == []
    assert violations(sites, is_llm) == []


def test_knowledge_imports_neither_the_core_nor_tools_nor_edge_libraries() -> None:
    if not source_files("knowledge"):
        pytest.skip("knowledge/ has no modules yet")
    sites = all_imports("knowledge")
    assert violations(sites, ("assistant", "tools", *SLACK)) == []
    assert violations(sites, is_llm) == []


def test_prompts_imports_nothing_of_ours() -> None:
    if not source_files("prompts"):
        pytest.skip("prompts/ has no modules yet")
    sites = all_imports("prompts")
    assert violations(sites, ("assistant", "tools", "knowledge", *SLACK, *CHROMA)) == []
    assert violations(sites, is_llm) == []


def test_only_the_slack_adapter_imports_slack_libraries() -> None:
    sites = [site for site in all_imports(*OUR_PACKAGES) if not in_folder(site, "assistant/slack/")]
    assert violations(sites, SLACK) == []


def test_only_the_agent_imports_langchain() -> None:
    sites = [site for site in all_imports(*OUR_PACKAGES) if not in_folder(site, "assistant/agent.py", "assistant/agent/")]
    assert violations(sites, is_llm) == []


def test_only_knowledge_imports_chromadb() -> None:
    sites = [site for site in all_imports(*OUR_PACKAGES) if not in_folder(site, "knowledge/")]
    assert violations(sites, CHROMA) == []


def test_only_the_cli_prints() -> None:
    found = [
        str(output)
        for relative in source_files(*OUR_PACKAGES)
        if not re.fullmatch(r"assistant/cli(_\w+)?\.py", relative.as_posix())  # the CLI and its command modules
        for output in terminal_output((ROOT / relative).read_text(encoding="utf-8"), relative)
    ]
    assert found == []


# --- no heavy work at import time --------------------------------------------------------------------


def _python(code: str, cwd: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BACKOFFICE_HOME": str(home), "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _core_modules() -> list[str]:
    """Return the importable modules of tools/ and the assistant core (not the Slack adapter or the agent)."""
    names = []
    for relative in source_files("assistant", "tools"):
        name, _ = module_of(relative)
        if within(name, "assistant.slack", "assistant.agent", "tools.migrations") or name.endswith("__main__"):
            continue
        names.append(name)
    return names


LOADED_HEAVY = (
    "import importlib, json, sys\n"
    "for name in {names!r}:\n"
    "    importlib.import_module(name)\n"
    "heavy = {heavy!r}\n"
    "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
)


def test_importing_the_cli_loads_no_heavy_library_and_touches_no_files(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = _python(LOADED_HEAVY.format(names=["assistant", "tools", "assistant.cli"], heavy=HEAVY), tmp_path, home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert not home.exists() and list(tmp_path.iterdir()) == []


def test_importing_the_core_and_tools_loads_no_heavy_library(tmp_path: Path) -> None:
    home = tmp_path / "home"
    modules = _core_modules()
    assert "assistant.container" in modules and "tools.pipeline" in modules
    result = _python(LOADED_HEAVY.format(names=modules, heavy=HEAVY), tmp_path, home)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
    assert not home.exists() and list(tmp_path.iterdir()) == []


def test_backoffice_help_is_fast(tmp_path: Path) -> None:
    assert CONSOLE_SCRIPT.is_file(), f"{CONSOLE_SCRIPT} is missing; run `pip install -e .`"
    timings = []
    for _ in range(2):  # the best of two runs, so one slow start on a busy machine does not fail the test
        started = time.perf_counter()
        result = subprocess.run([str(CONSOLE_SCRIPT), "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                                env={**os.environ, "BACKOFFICE_HOME": str(tmp_path / "home")})
        timings.append(time.perf_counter() - started)
        assert result.returncode == 0, result.stderr
        assert "leave" in result.stdout and "approvals" in result.stdout
    assert min(timings) < 2.5, f"backoffice --help took {min(timings):.2f}s"
    assert not (tmp_path / "home").exists()
