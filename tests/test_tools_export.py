"""Graph export: DOT with every op and edge (parsed back with a regex), diffable JSON, rendering."""
import json
import os
import re
import stat

import pytest

import autograd as ag

pytestmark = pytest.mark.usefixtures("source_lines")  # these tests check the recorded file:line

NODE = re.compile(r'^\s*(n\d+|l\d+) \[(.*)label="((?:[^"\\]|\\.)*)"\];$', re.M)
EDGE = re.compile(r'^\s*(n\d+|l\d+) -> (n\d+) \[label="(\d+)"\];$', re.M)


def model():
    ag.manual_seed(0)
    params = {"fc1.weight": ag.randn(3, 5, requires_grad=True), "fc1.bias": ag.zeros(5, requires_grad=True),
              "fc2.weight": ag.randn(5, 2, requires_grad=True)}
    x = ag.randn(4, 3)
    h = (x @ params["fc1.weight"] + params["fc1.bias"]).relu()
    y = (h @ params["fc2.weight"]).sum()
    return y, params


def parse(dot):
    nodes = {m.group(1): m.group(3).split("\\n") for m in NODE.finditer(dot)}
    edges = [(m.group(1), m.group(2), int(m.group(3))) for m in EDGE.finditer(dot)]
    return nodes, edges


def test_dot_has_every_op_leaf_and_edge():
    y, params = model()
    dot = ag.to_dot(y, params.items())
    assert dot.startswith("digraph tape {") and dot.rstrip().endswith("}")
    nodes, edges = parse(dot)
    # every statement line is a node or an edge, nothing unparsed
    body = [l for l in dot.splitlines()[3:-1]]
    assert len(body) == len(nodes) + len(edges)
    ops = {k: v[0] for k, v in nodes.items() if k.startswith("n")}
    assert ops == {"n0": "matmul", "n1": "add", "n2": "relu", "n3": "matmul", "n4": "sum"}
    leaves = {k: v[0] for k, v in nodes.items() if k.startswith("l")}
    assert leaves == {"l0": "fc1.weight", "l1": "fc1.bias", "l2": "fc2.weight"}
    # by hand: x (no grad) has no edge; W1 -> matmul in 1; matmul -> add in 0; b1 -> add in 1; ...
    assert sorted(edges) == sorted([("l0", "n0", 1), ("n0", "n1", 0), ("l1", "n1", 1), ("n1", "n2", 0),
                                    ("n2", "n3", 0), ("l2", "n3", 1), ("n3", "n4", 0)])
    assert nodes["n0"][1:3] == ["(4, 5) float32", "saved 108 B"]           # x (48) + W1 (60)
    assert nodes["n2"][2] == "saved 80 B" and nodes["n4"][1] == "() float32"
    assert nodes["l1"][1] == "(5,) float32"
    assert re.search(r"test_tools_export\.py:\d+$", nodes["n0"][3])
    assert "peripheries=2" in dict((m.group(1), m.group(2)) for m in NODE.finditer(dot))["n4"]


def test_dot_without_names_and_quoting():
    y, _ = model()
    nodes, _ = parse(ag.to_dot(y))
    assert [nodes[f"l{i}"][0] for i in range(3)] == ["leaf"] * 3
    w = ag.ones(2, requires_grad=True)
    dot = ag.to_dot((w * 2).sum(), {'a "quoted" \\ name': w})
    nodes, _ = parse(dot)
    assert nodes["l0"][0] == 'a \\"quoted\\" \\\\ name'


def test_json_round_trips_and_is_stable_across_runs():
    y1, p1 = model()
    y2, p2 = model()                       # fresh graph: other seq numbers, other addresses
    s1, s2 = ag.to_json(y1, p1), ag.to_json(y2, p2)
    assert s1 == s2
    doc = json.loads(s1)
    assert json.dumps(doc, indent=1, sort_keys=True) == s1
    assert "0x" not in s1
    assert [n["op"] for n in doc["nodes"]] == ["matmul", "add", "relu", "matmul", "sum"]
    assert [n["id"] for n in doc["nodes"]] == list(range(5))
    assert doc["nodes"][3]["inputs"] == [{"node": 2, "output": 0}, {"leaf": 2}]
    assert doc["nodes"][0]["inputs"] == [None, {"leaf": 0}]
    assert [lf["name"] for lf in doc["leaves"]] == ["fc1.weight", "fc1.bias", "fc2.weight"]
    assert doc["outputs"] == [{"node": 4, "output": 0}]
    assert doc["total_saved_bytes"] == ag.tape_report(y1).total_bytes == 108 + 80 + 40
    y1.backward()
    after = json.loads(ag.to_json(y1, p1))
    assert all(n["freed"] for n in after["nodes"]) and after["total_saved_bytes"] == 0


def test_json_multi_output_nodes():
    x = ag.randn(2, 3, requires_grad=True)
    a, b = x.unbind(0)
    doc = json.loads(ag.to_json([a * b, b]))
    outs = doc["outputs"]
    assert len(outs) == 2 and all("node" in o for o in outs)


def test_render_dot_without_binary_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RuntimeError, match="Graphviz's 'dot' program was not found on PATH"):
        ag.render_dot("digraph {}", tmp_path / "g.png")
    assert not (tmp_path / "g.png").exists()


def _fake_dot(tmp_path, body):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "dot"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(bindir) + os.pathsep + os.environ.get("PATH", "")


def test_render_dot_writes_atomically_with_the_format_of_the_suffix(tmp_path, monkeypatch):
    # a stand-in `dot`: writes "<-Tfmt>" and its stdin to the -o file
    monkeypatch.setenv("PATH", _fake_dot(tmp_path, 'echo "$1" > "$3"; cat >> "$3"\n'))
    y, params = model()
    out = ag.render_dot(ag.to_dot(y, params), tmp_path / "graph.svg")
    text = open(out).read()
    assert text.startswith("-Tsvg\ndigraph tape {")
    assert sorted(os.listdir(tmp_path)) == ["bin", "graph.svg"]            # no temporary left


def test_render_dot_failure_keeps_the_old_file(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", _fake_dot(tmp_path, 'echo partial > "$3"; echo "syntax error" >&2; exit 1\n'))
    target = tmp_path / "graph.png"
    target.write_text("old")
    with pytest.raises(RuntimeError, match=r"dot -Tpng failed \(exit 1\): syntax error"):
        ag.render_dot("digraph {", target)
    assert target.read_text() == "old"
    assert sorted(os.listdir(tmp_path)) == ["bin", "graph.png"]


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="Graphviz not installed")
def test_render_dot_real_graphviz(tmp_path):
    y, params = model()
    p = ag.render_dot(ag.to_dot(y, params), tmp_path / "g.svg")
    assert "<svg" in open(p).read()
