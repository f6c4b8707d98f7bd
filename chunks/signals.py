from django.dispatch import Signal

# Sent (after the transaction commits) when new PENDING chunks or VectorDeletion rows exist,
# so the outbox can push them within seconds instead of at its next scheduled tick.
outbox_has_work = Signal()
