"""StormCom POS: the desktop till and its shared domain rules.

This package must stay free of PySide6 at import time so the server can import
``stormcom_pos.domain`` without Qt.
"""

__version__ = "0.1.0"
