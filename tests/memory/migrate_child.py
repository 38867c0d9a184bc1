"""A migration that a test kills: ``python migrate_child.py SRC DST``. It copies in batches of 5
records, prints READY after the first batch, then slows down so the SIGKILL lands mid-copy."""

from __future__ import annotations

import sys
import time

import memlane


def main() -> None:
    source, destination = sys.argv[1], sys.argv[2]

    def progress(done: int, total: int) -> None:
        if done >= 5:
            print("READY", flush=True)
        time.sleep(0.05)

    memlane.migrate(source, destination, batch_size=5, progress=progress)
    print("FINISHED", flush=True)


if __name__ == "__main__":
    main()
