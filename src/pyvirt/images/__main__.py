"""``python -m pyvirt.images``: see pyvirt.images.cli."""

from pyvirt.images.cli import main

raise SystemExit(main())
