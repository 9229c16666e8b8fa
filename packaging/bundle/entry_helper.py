"""``docker-credential-portside`` as a PyInstaller program (macOS and Windows bundles).

The Linux bundle uses ``launcher.c`` instead; see packaging/bundle/helper-launcher.sh.
"""

import sys

from engine.credentials.helper import main

sys.exit(main())
