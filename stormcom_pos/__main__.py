"""``stormcom-pos``: start the desktop till."""

from __future__ import annotations

import sys


def main() -> int:
    # Imported here so that `import stormcom_pos` never pulls in Qt (the server imports the domain).
    from stormcom_pos.ui.app import run

    return run(sys.argv)


if __name__ == "__main__":
    sys.exit(main())
