"""A drain in its own process, for the killed-worker test: it claims one batch, reports the claim
on stdout, then hangs inside the upsert until it is killed."""
import os
import sys
import time

import django


def main(store_folder):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ragbase.settings")
    django.setup()
    from chunks.outbox.drain import drain
    from chunks.tests.outbox.faulty_index import WrappedIndex
    from chunks.vector_index.qdrant_server import ServerVectorIndex
    from ragbase.testing import ensured

    class HangingIndex(WrappedIndex):
        def before_upsert(self, points):
            print(f"claimed {len(points)}", flush=True)
            time.sleep(600)

    drain(batch_size=int(sys.argv[2]), threads=1, index=HangingIndex(ensured(ServerVectorIndex(path=store_folder, collection="w"))))


if __name__ == "__main__":
    main(sys.argv[1])
