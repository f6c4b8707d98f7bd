"""Retrieval evaluation on BEIR-format datasets, through the same search service users call.
Used by `manage.py evaluate` (and `load_beir`) and by the benchmark's quality section.

- `beir`: reading a dataset folder (corpus.jsonl, queries.jsonl, qrels/<split>.tsv).
- `loading`: its corpus ingested as documents of a user (one per row, source id = the BEIR id).
- `ranking`: every query through `search.services.search`, chunk hits folded to document ids.
- `scoring`: pytrec_eval nDCG@10 and Recall@100 on a ranking, MRR@10 on its top 10.
"""
