"""The bundle's ``portside`` executable: the same entry point as the ``portside`` console script."""

import sys

from app.__main__ import main

sys.exit(main())
