"""The layers and what each may import (docs/architecture.md), checked on the source itself.

    python -m pytest tests/test_layout.py -q

Every import counts, module-level or inside a function, and so does a module named in a string
(`importlib.import_module("selector.cli.rank")`, a registry's "module:function"). The rules:
- the core (selector/, less selector/cli/) imports no torch-stack package, no trainer, no
  analysis and no command;
- trainer/ imports the core and itself, never analysis/ or the commands;
- analysis/ imports the core and itself, never trainer/ (no torch) or the commands;
- the commands (selector/cli/) may import any layer;
- no import cycle between our modules.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("selector", "trainer", "analysis")
# The torch stack: only trainer/ (and the commands, through it) may import these.
HEAVY = {"torch", "transformers", "trl", "peft", "accelerate", "vllm", "tokenizers", "safetensors", "deepspeed"}
_MODULE_STRING = re.compile(r"^((?:selector|trainer|analysis)(?:\.\w+)*)(?::\w+)?$")


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in (REPO / pkg).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _ours(name: str) -> str | None:
    """The module of ours that an import of `name` loads (the longest known prefix), or None."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in MODULES:
            return ".".join(parts[:k])
    return None


def imports(module: str) -> set[str]:
    """Every module `module` imports, anywhere in its file: top-level names for third-party
    packages, full module names for ours."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from selector import score` imports the submodule selector.score
            names |= {f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_STRING.match(node.value):
            names.add(_MODULE_STRING.match(node.value).group(1))
    out = set()
    for name in names:
        ours = _ours(name)
        out.add(ours if ours else name.split(".")[0])
    return out - {module}


def layer(module: str) -> str:
    if module in ("selector.cli", "selector.__main__") or module.startswith("selector.cli."):
        return "cli"
    return module.split(".")[0].replace("selector", "core")


# layer -> the layers of ours it may import
ALLOWED = {"core": {"core"}, "trainer": {"core", "trainer"}, "analysis": {"core", "analysis"},
           "cli": {"core", "trainer", "analysis", "cli"}}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_imports_only_the_layers_above_it(module):
    mine = layer(module)
    bad = sorted(m for m in imports(module) if m in MODULES and layer(m) not in ALLOWED[mine])
    assert not bad, f"{module} ({mine}) imports {bad}; docs/architecture.md says {mine} may import {sorted(ALLOWED[mine])}"
    if mine in ("core", "analysis"):
        heavy = sorted(imports(module) & HEAVY)
        assert not heavy, f"{module} ({mine}) imports {heavy}: only trainer/ may import the torch stack"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), i.e. import cycles."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    graph = {m: {x for x in imports(m) if x in MODULES} for m in MODULES}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    # The check above must be able to fail: a -> b -> c -> a is one cycle, d is not in it.
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_import_scan_sees_imports_inside_functions_and_strings():
    # selector/cli/__init__.py names its commands in strings and imports them in a function.
    assert {"selector.cli.rank", "selector.cli.train"} <= imports("selector.cli")
    assert "trainer.grpo" in imports("selector.cli.train")  # imported inside main()
    assert layer("selector.cli.rank") == "cli" and layer("selector.store.runlog") == "core"


def test_importing_the_whole_core_loads_no_torch_stack():
    core = sorted(m for m in MODULES if layer(m) == "core")
    code = ("import importlib, sys\n"
            f"for m in {core!r}: importlib.import_module(m)\n"
            f"bad = sorted(set(sys.modules) & set({sorted(HEAVY)!r}))\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
