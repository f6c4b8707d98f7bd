"""The default models come from pip-installed files: they load with the network unreachable."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

OFFLINE_PROBE = """
import socket, os
def refuse(*a, **k):
    raise OSError("network disabled by the test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
os.environ["DJANGO_SETTINGS_MODULE"] = "ragbase.settings"
import django
django.setup()
from chunks.embedding import get_embedder
e = get_embedder()
v = e.embed_documents(["The patient was given statins to lower cholesterol."])[0]
q = e.embed_query("cholesterol")
print(e.dense_dim, len(v["dense"]), len(v["sparse"]["indices"]), len(q["sparse"]["indices"]))
"""


def test_default_models_load_and_embed_with_the_network_unreachable(tmp_path):
    import os

    env = dict(os.environ, HF_HUB_OFFLINE="0", MODELS_DIR=str(tmp_path / "models"))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dim, dense_len, sparse_nnz, query_nnz = map(int, result.stdout.split()[-4:])
    assert dim == dense_len == 384
    assert sparse_nnz >= 5 and query_nnz == 1


def test_dense_vectors_place_related_texts_closer(embedder):
    import numpy as np

    docs = embedder.embed_documents(["Statins reduce LDL cholesterol.", "The stock market fell sharply today."])
    query = embedder.embed_query("drugs that lower cholesterol")
    similarity = [float(np.dot(d["dense"], query["dense"])) for d in docs]
    assert similarity[0] > similarity[1] + 0.2


def test_sparse_query_keeps_rare_exact_terms(embedder):
    """Every word of the query is a sparse term, and a rare code gets a term of its own that only
    the documents holding the code carry."""
    query = set(embedder.embed_query("XQ7731 error")["sparse"]["indices"])
    document = set(embedder.embed_documents(["The XQ7731 error appears at boot."])[0]["sparse"]["indices"])
    without_the_code = set(embedder.embed_documents(["The error appears at boot."])[0]["sparse"]["indices"])
    assert len(query) == 2 and query <= document
    assert len(query - without_the_code) == 1
