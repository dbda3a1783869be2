"""The dependency rule of ARCHITECTURE.md ("Where things live"), checked on every `make test`.

Layers: the `onramp` command on top; api and worker (neither imports the other); bot; campaign;
settings and logging at the bottom. The contract is `[tool.importlinter]` in pyproject.toml.
And no circles: no module of ours reaches itself again through its imports, counting the imports
written inside functions (grimp reads every import statement of a module, wherever it stands), so
an import moved into a function to dodge a circle at start-up still counts as one.
actions/ runs in Rasa's Python and imports none of the app: it is outside both checks.
"""
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("onramp", "api", "worker", "bot", "campaign")


def test_each_layer_imports_only_the_layers_below_it():
    # lint-imports is installed beside the interpreter running the tests (.venv/bin); no cache
    # directory is written into the working tree
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True)
    print(result.stdout, result.stderr)
    assert result.returncode == 0, f"the layers contract is broken:\n{result.stdout}{result.stderr}"


def test_no_module_imports_itself_through_a_circle():
    graph = grimp.build_graph(*PACKAGES, cache_dir=None)
    # The check below is only as good as grimp's reading of imports inside functions: this one
    # (onramp/logs.py reads the settings inside its functions, never at the top) must be seen.
    assert graph.direct_import_exists(importer="onramp.logs", imported="onramp.settings")
    cycles = import_cycles(graph)
    report = "\n\n".join(describe(graph, cycle, members) for cycle, members in cycles)
    print(report or "no import cycles")
    assert not cycles, f"{len(cycles)} import cycle(s):\n\n{report}"


def import_cycles(graph) -> list[tuple[list[str], set[str]]]:
    """For each set of modules that reach one another (a strongly connected component, Tarjan's
    algorithm): one shortest cycle through it, as [a, b, ..., a], and the whole set. Empty when
    the graph has no cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            module, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.find_modules_directly_imported_by(successor)))))
                    break
                if successor in on_stack:
                    low[module] = min(low[module], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[module])
                if low[module] == index[module]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == module:
                            break
                    if len(component) > 1 or graph.direct_import_exists(importer=module, imported=module):
                        components.append(component)
    cycles = []
    for component in components:
        start = min(component)
        chains = [graph.find_shortest_chain(importer=successor, imported=start) or (successor,)
                  for successor in graph.find_modules_directly_imported_by(start) if successor in component]
        cycles.append(([start, *min(chains, key=lambda chain: (len(chain), chain))], component))
    return sorted(cycles)


def describe(graph, cycle: list[str], members: set[str]) -> str:
    """The cycle, one import a line, each with where it is written, and every module caught in it."""
    lines = [" -> ".join(cycle)]
    for importer, imported in zip(cycle, cycle[1:]):
        for detail in graph.get_import_details(importer=importer, imported=imported):
            lines.append(f"  {importer}:{detail['line_number']}  {detail['line_contents']}")
    if len(members) > len(cycle) - 1:
        lines.append(f"  modules in this circle: {', '.join(sorted(members))}")
    return "\n".join(lines)
