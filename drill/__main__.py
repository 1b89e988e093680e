"""``python -m drill`` (``make drill``): the game day of :mod:`drill.game_day`."""

import sys

from drill.game_day import main

sys.exit(main())
