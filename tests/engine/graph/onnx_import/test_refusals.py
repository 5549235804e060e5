"""What ONNX import refuses, and how: a file that is not a model, a model LayerLab cannot hold (two inputs,
external weights), and every operator or pattern without a layer, named with its node and what is missing.
Nothing is half-imported: a refusal raises before any document exists."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from engine.graph.onnx_import import OnnxImportError, import_onnx, import_onnx_model, parse_model
from engine.graph.onnx_import.names import candidate_name
from engine.utils.files import FileError

pytest.importorskip("onnxruntime")


def model(nodes, initializers=(), inputs=None, output=("y", ["batch", 3, 8, 8]), opset=17):
    """A model of ``nodes`` with input x (batch×3×8×8 unless ``inputs``) and output ``output`` (name, shape)."""
    inputs = inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])]
    outputs = [helper.make_tensor_value_info(output[0], TensorProto.FLOAT, output[1])]
    graph = helper.make_graph(nodes, "test", inputs, outputs,
                              initializer=[numpy_helper.from_array(np.asarray(a), n) for n, a in initializers])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def refusal(m):
    with pytest.raises(OnnxImportError) as caught:
        import_onnx_model(parse_model(m.SerializeToString(), "model.onnx"), "model.onnx")
    return str(caught.value)


def conv_weight(out=4, inp=3, k=3):
    return np.random.default_rng(0).standard_normal((out, inp, k, k)).astype(np.float32)


def test_an_operator_without_a_layer_is_named_with_its_node():
    message = refusal(model([helper.make_node("Sin", ["x"], ["y"], name="wobble")]))
    assert message.startswith("model.onnx: node 'wobble' (Sin)")
    assert "operator Sin" in message


def test_a_constant_scale_that_is_no_activation_is_refused():
    m = model([helper.make_node("Mul", ["x", "k"], ["y"], name="scale")], [("k", np.float32(3.0))])
    message = refusal(m)
    assert "'scale' (Mul)" in message and "activation" in message


def test_asymmetric_padding_and_other_dimensionalities_are_refused():
    pads = model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", pads=[1, 1, 0, 0])], [("w", conv_weight())],
                 output=("y", ["batch", 4, 7, 7]))
    assert "pads [1, 1, 0, 0]" in refusal(pads)
    conv1d = model([helper.make_node("Conv", ["x", "w"], ["y"], name="c1")],
                   [("w", np.ones((4, 3, 3), np.float32))],
                   inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8])],
                   output=("y", ["batch", 4, 6]))
    assert "only 2-D convolutions" in refusal(conv1d)


def test_a_weight_computed_by_the_network_is_refused():
    m = model([helper.make_node("Conv", ["x", "x"], ["y"], name="odd", kernel_shape=[8, 8])],
              inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 3, 8, 8])], output=("y", [3, 3, 1, 1]))
    assert "'odd' (Conv): its weight must be a constant" in refusal(m)


def test_arithmetic_on_the_batch_size_is_refused():
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Mul", ["s", "two"], ["t"], name="double"),
             helper.make_node("Reshape", ["x", "t"], ["y"])]
    message = refusal(model(nodes, [("two", np.array([2, 1, 1, 1], np.int64))], output=("y", ["b2", 3, 8, 8])))
    assert "'double' (Mul): computes with the batch size" in message


def test_a_constant_too_large_to_fold_is_refused_without_making_it():
    nodes = [helper.make_node("ConstantOfShape", ["shape"], ["big"], name="huge"),
             helper.make_node("Add", ["x", "big"], ["y"])]
    message = refusal(model(nodes, [("shape", np.array([1 << 30, 3, 8, 8], np.int64))]))
    assert f"'huge' (ConstantOfShape): would make a constant of {(1 << 30) * 192:,} elements" in message


def test_a_model_with_two_inputs_or_two_outputs_is_refused():
    two_in = model([helper.make_node("Add", ["x", "z"], ["y"])], inputs=[
        helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 3, 8, 8]) for n in ("x", "z")])
    assert "the graph has 2 inputs (x, z)" in refusal(two_in)
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"]), helper.make_node("Relu", ["x"], ["z"])], "t",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch", 3]) for n in ("y", "z")])
    two_out = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    assert "the graph has 2 outputs" in refusal(two_out)


def test_an_input_of_unknown_size_is_refused():
    m = model([helper.make_node("Relu", ["x"], ["y"])],
              inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, "h", "w"])],
              output=("y", ["batch", 3, "h", "w"]))
    assert "the input 'x' has shape" in refusal(m)


def test_weights_in_external_files_are_refused(tmp_path):
    m = model([helper.make_node("Conv", ["x", "w"], ["y"])], [("w", conv_weight())], output=("y", ["batch", 4, 6, 6]))
    onnx.save_model(m, tmp_path / "m.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    with pytest.raises(OnnxImportError, match="external data files"):
        import_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("data, problem", [
    (b"this is not a model at all", "not an ONNX model"),
    (b"", "not an ONNX model"),
])
def test_files_that_are_not_models_are_refused(tmp_path, data, problem):
    path = tmp_path / "bad.onnx"
    path.write_bytes(data)
    with pytest.raises(OnnxImportError) as caught:
        import_onnx(path)
    assert str(caught.value).startswith(f"{path}: ") and problem in str(caught.value)
    assert isinstance(caught.value, FileError)


def test_a_truncated_or_inconsistent_model_is_refused(tmp_path):
    m = model([helper.make_node("Conv", ["x", "w"], ["y"])], [("w", conv_weight())], output=("y", ["batch", 4, 6, 6]))
    data = m.SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(OnnxImportError, match="not an ONNX model|not a valid ONNX model"):
        import_onnx(path)
    broken = model([helper.make_node("Relu", ["nowhere"], ["y"])])
    assert "not a valid ONNX model" in refusal(broken)


def test_a_missing_file_is_named():
    with pytest.raises(OnnxImportError, match="^/nonexistent/model.onnx: cannot read the file"):
        import_onnx("/nonexistent/model.onnx")


@pytest.mark.parametrize("node_name, op, expected", [
    ("/layer1/layer1.0/conv1/Conv", "Conv", "layer1_0_conv1"),
    ("/features/features.3/conv/conv.0/conv.0.0/Conv", "Conv", "features_3_conv_0_0"),
    ("/act/Mul_1", "Mul", "act"),
    ("conv1", "Conv", "conv1"),
    ("/Reshape", "Reshape", ""),
    ("Conv_12", "Conv", ""),
])
def test_node_names_come_from_the_scopes(node_name, op, expected):
    assert candidate_name(helper.make_node(op, [], ["out"], name=node_name)) == expected


def constants(*pairs):
    return [(name, np.asarray(value)) for name, value in pairs]


RNG = np.random.default_rng(0)


def tokens_input(tokens=4, dim=6):
    return [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", tokens, dim])]


@pytest.mark.parametrize("case, expected", [
    # a constant of the right size that broadcasts another way is not a layer's weight
    ((lambda: model([helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["y"])],
                    constants(("w", RNG.standard_normal((6, 4)).astype(np.float32)),
                              ("b", RNG.standard_normal((4, 1)).astype(np.float32))),
                    inputs=tokens_input(), output=("y", ["batch", 4, 4]))), "adding a constant of shape (4, 1)"),
    ((lambda: model([helper.make_node("PRelu", ["x", "s"], ["y"], name="p")],
                    constants(("s", np.ones(8, np.float32))),
                    inputs=[helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 8, 4, 8])],
                    output=("y", ["batch", 8, 4, 8]))), "'p' (PRelu): a slope of shape (8,) is not one per channel"),
    # before opset 13, Softmax normalises over every axis from 'axis' on
    ((lambda: model([helper.make_node("Softmax", ["x"], ["y"], name="s", axis=1)], opset=11)),
     "'s' (Softmax): before opset 13 it normalises over axes 1 to 3 together"),
    # a clamp is no ReLU, however alike they look near 0
    ((lambda: model([helper.make_node("Max", ["x", "z"], ["r"]), helper.make_node("Min", ["r", "c"], ["y"], name="m")],
                    constants(("z", np.float32(0)), ("c", np.float32(50))))), "'m' (Min): Min here has no layer"),
    ((lambda: model([helper.make_node("LayerNormalization", ["x", "g"], ["y", "mean"], name="n")],
                    constants(("g", np.ones(8, np.float32))),
                    output=("mean", ["batch", 3, 8, 1]))), "'n' (LayerNormalization): its mean and inverse deviation"),
])
def test_lookalikes_are_refused(case, expected):
    assert expected in refusal(case())


def test_a_loop_of_constants_is_not_run():
    body = helper.make_graph(
        [helper.make_node("Identity", ["cin"], ["cout"]), helper.make_node("Add", ["v", "one"], ["vout"])], "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cin", TensorProto.BOOL, []),
         helper.make_tensor_value_info("v", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("cout", TensorProto.BOOL, []),
         helper.make_tensor_value_info("vout", TensorProto.FLOAT, [1])],
        initializer=[numpy_helper.from_array(np.ones(1, np.float32), "one")])
    nodes = [helper.make_node("Loop", ["n", "go", "v0"], ["vf"], name="forever", body=body),
             helper.make_node("Add", ["x", "vf"], ["y"])]
    m = model(nodes, constants(("n", np.array(10 ** 12, np.int64)), ("go", np.array(True)),
                               ("v0", np.zeros(1, np.float32))))
    assert "'forever' (Loop): a loop or branch of constants is not computed" in refusal(m)


def test_a_broadcast_of_constants_too_large_is_refused_before_it_is_made():
    nodes = [helper.make_node("Add", ["a", "b"], ["c"], name="square"), helper.make_node("ReduceSum", ["c"], ["s"]),
             helper.make_node("Add", ["x", "s"], ["y"])]
    m = model(nodes, constants(("a", np.ones((20000, 1), np.float32)), ("b", np.ones((1, 20000), np.float32))))
    assert "'square' (Add): would make a constant of 400,000,000 elements" in refusal(m)
