"""The bundled credential helper's script, run by ``launcher.c`` as ``python3 -IS main.py``.

``-I`` keeps the user's environment and site-packages out; the ``engine`` package sits next to
this file in ``site/``.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "site"))

from engine.credentials.helper import main  # noqa: E402

sys.exit(main())
