"""Vectors are never lost and never embedded twice: the portable vector file (`fileformat`),
export / import / copy between stores (`transfer`) and a Qdrant server's snapshots (`snapshots`).
The Postgres ⇄ store consistency check is chunks.services.index_check."""
