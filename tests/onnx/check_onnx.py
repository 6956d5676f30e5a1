"""check_onnx.py — an exported focal model through the ONNX checker.

    /usr/bin/python3 check_onnx.py MODEL.onnx OUTPUTS TASK

onnx.checker.check_model with full_check (which also runs shape inference),
then what `focal export --help` promises: opset >= 13, one input "input"
whose first dimension is free, one output "probabilities" of shape
[N, OUTPUTS], and the metadata (class names, thresholds, task, head, input
size, normalisation) as JSON that agrees with them. Prints one line and exits
0, or prints what is wrong and exits 1.
"""
import json
import sys

import onnx
from onnx import shape_inference


def dims(value_info):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value
            for d in value_info.type.tensor_type.shape.dim]


def main():
    path, outputs, task = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    problems = []
    opset = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    if not opset or opset[0] < 13:
        problems.append("opset %s; expected >= 13" % opset)
    g = model.graph
    if [i.name for i in g.input] != ["input"] or [o.name for o in g.output] != ["probabilities"]:
        problems.append("inputs %s, outputs %s" % ([i.name for i in g.input], [o.name for o in g.output]))
    in_dims, out_dims = dims(g.input[0]), dims(g.output[0])
    if not isinstance(in_dims[0], str) or len(in_dims) not in (2, 4):
        problems.append("input dims %s; expected a free batch dimension and 1 or 3 more" % in_dims)
    if out_dims[1:] != [outputs] or not isinstance(out_dims[0], str):
        problems.append("output dims %s; expected [N, %d]" % (out_dims, outputs))
    inferred = shape_inference.infer_shapes(model, strict_mode=True)
    got = dims(inferred.graph.output[0])
    if got[1:] != [outputs]:
        problems.append("shape inference gives the output %s" % got)
    meta = {p.key: json.loads(p.value) for p in model.metadata_props}
    for key in ("class_names", "thresholds", "task", "head", "input", "input_size", "mean", "std",
                "fundus_crop", "network"):
        if key not in meta:
            problems.append("metadata has no '%s'" % key)
    if len(meta.get("class_names", [])) != outputs or len(meta.get("thresholds", [])) != outputs:
        problems.append("metadata: %s class names and %s thresholds for %d outputs"
                        % (len(meta.get("class_names", [])), len(meta.get("thresholds", [])), outputs))
    if meta.get("task") != task:
        problems.append("metadata task %r; expected %r" % (meta.get("task"), task))
    want_head = "softmax" if task == "multiclass" else "sigmoid"
    if meta.get("head") != want_head:
        problems.append("metadata head %r; expected %r" % (meta.get("head"), want_head))
    size = meta.get("input_size", [])
    if in_dims[1:] != (size if len(in_dims) == 4 else size[:1]):
        problems.append("input dims %s disagree with input_size %s" % (in_dims, size))
    if problems:
        print("%s: %s" % (path, "; ".join(problems)))
        return 1
    ops = sorted({n.op_type for n in g.node})
    print("onnx %s checker ok: %s, %d nodes (%s), input %s, output %s"
          % (onnx.__version__, path.split("/")[-1], len(g.node), " ".join(ops), in_dims, out_dims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
