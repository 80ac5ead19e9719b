"""The recorded graph written out: Graphviz DOT to look at, JSON to diff.

Both walk the tape from the outputs (`ledger.graph_nodes`, creation order) and number nodes
0, 1, 2, ... in that order, and leaves in order of first use, so two runs of the same program
give the same text: no sequence counters from earlier graphs, no memory addresses. Leaves are
named when `params` (a dict or (name, tensor) pairs, as `model.named_parameters()`) names them.
Edges follow the data: from an input (a leaf or the node that made it) to the op reading it.
"""
from __future__ import annotations

import json
import os

from .ledger import _buffers, _dtype_name, graph_nodes


def _names(params):
    if params is None:
        return {}
    items = params.items() if hasattr(params, "items") else params
    return {id(t): name for name, t in items}


def _source(src):
    if not src:
        return None
    f, line = src
    try:
        rel = os.path.relpath(f)
        if not rel.startswith(".."):
            f = rel
    except ValueError:                 # another drive (Windows)
        pass
    return f"{f}:{line}"


def _outputs(outputs):
    from .tensor import Tensor
    return [outputs] if isinstance(outputs, Tensor) else list(outputs)


def _walk(outputs, params):
    """Numbered nodes and leaves, with each node's inputs as ("node", k, out_index) / ("leaf", k) / None."""
    outs = _outputs(outputs)
    be = outs[0]._backend if outs else None
    names = _names(params)
    nodes = graph_nodes(outs)
    num = {id(n): k for k, n in enumerate(nodes)}
    leaves, leaf_num = [], {}
    held, recs = set(), []
    for k, n in enumerate(nodes):
        ins = []
        for e in n.next:
            if e is None:
                ins.append(None)
            elif type(e) is tuple:
                ins.append(("node", num[id(e[0])], e[1]))
            else:
                if id(e) not in leaf_num:
                    leaf_num[id(e)] = len(leaves)
                    leaves.append({"id": len(leaves), "name": names.get(id(e)), "shape": list(e.shape),
                                   "dtype": e.dtype.name})
                ins.append(("leaf", leaf_num[id(e)]))
        bufs = _buffers(n)
        new = sum(nb for key, nb in bufs if key not in held)
        held.update(key for key, _ in bufs)
        recs.append({
            "id": k, "op": n.name, "source": _source(n.source),
            "outputs": [{"shape": list(s), "dtype": _dtype_name(d, be)} for s, d in n.out_meta],
            "inputs": ins, "saved_bytes": sum(nb for _, nb in bufs), "new_bytes": new,
            "freed": n.saved is None})
    roots = []
    for t in outs:
        if t.grad_fn is not None:
            roots.append(("node", num[id(t.grad_fn)], t._idx))
        elif id(t) in leaf_num:
            roots.append(("leaf", leaf_num[id(t)]))
    return recs, leaves, roots


def to_json(outputs, params=None, indent=1):
    """The tape behind outputs as JSON text: nodes in creation order, leaves, outputs, total bytes."""
    recs, leaves, roots = _walk(outputs, params)
    for r in recs:
        r["inputs"] = [None if i is None else
                       ({"node": i[1], "output": i[2]} if i[0] == "node" else {"leaf": i[1]}) for i in r["inputs"]]
    doc = {"format": "tapegrad-tape/1", "nodes": recs, "leaves": leaves,
           "outputs": [{"node": r[1], "output": r[2]} if r[0] == "node" else {"leaf": r[1]} for r in roots],
           "total_saved_bytes": sum(r["new_bytes"] for r in recs)}
    return json.dumps(doc, indent=indent, sort_keys=True)


def _q(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(s):
    return "(" + ", ".join(str(x) for x in s) + ("," if len(s) == 1 else "") + ")"


def to_dot(outputs, params=None):
    """Graphviz DOT text of the tape behind outputs: one box per op (name, output shape and dtype,
    bytes saved, creating line), one ellipse per leaf (its name when `params` gives one)."""
    recs, leaves, roots = _walk(outputs, params)
    lines = ["digraph tape {", '  rankdir="BT";', '  node [fontname="monospace", fontsize=10];']
    for lf in leaves:
        label = f"{lf['name'] or 'leaf'}\n{_shape(lf['shape'])} {lf['dtype']}"
        style = 'style=filled, fillcolor="lightblue"' if lf["name"] else 'style=filled, fillcolor="lightgrey"'
        lines.append(f"  l{lf['id']} [shape=ellipse, {style}, label={_q(label)}];")
    root_nodes = {r[1] for r in roots if r[0] == "node"}
    for r in recs:
        o = r["outputs"][0]
        label = f"{r['op']}\n{_shape(o['shape'])} {o['dtype']}\nsaved {r['saved_bytes']} B"
        if r["source"]:
            label += f"\n{r['source']}"
        extra = ", peripheries=2" if r["id"] in root_nodes else ""
        lines.append(f"  n{r['id']} [shape=box{extra}, label={_q(label)}];")
    for r in recs:
        for pos, i in enumerate(r["inputs"]):
            if i is None:
                continue
            src = f"n{i[1]}" if i[0] == "node" else f"l{i[1]}"
            lines.append(f"  {src} -> n{r['id']} [label={_q(pos)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_dot(dot, path, format=None):
    """Render DOT text to `path` (format from its suffix: png, svg, pdf) with Graphviz's `dot`.
    Written to a temporary file beside path and renamed into place, so path is never half-written."""
    import shutil
    import subprocess
    import tempfile
    exe = shutil.which("dot")
    if exe is None:
        raise RuntimeError("render_dot: Graphviz's 'dot' program was not found on PATH. Install Graphviz "
                           "(e.g. `apt-get install graphviz`), or save the text of to_dot() and render it "
                           "elsewhere.")
    path = os.fspath(path)
    fmt = format or os.path.splitext(path)[1].lstrip(".").lower()
    if not fmt:
        raise ValueError(f"render_dot: cannot tell the format from {path!r}; pass format='png' or 'svg'")
    fd, tmp = tempfile.mkstemp(prefix=".render_dot-", suffix="." + fmt, dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    try:
        proc = subprocess.run([exe, f"-T{fmt}", "-o", tmp], input=dot.encode(), capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError(f"render_dot: dot -T{fmt} failed (exit {proc.returncode}): "
                               f"{proc.stderr.decode(errors='replace').strip()}")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
