from chunks.services.ingestion import ingest_stored_document


def ingest_document(document_id):
    ingest_stored_document(document_id=document_id)
