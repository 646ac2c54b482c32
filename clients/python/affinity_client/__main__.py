"""python3 -m affinity_client: the affinity-recommend command."""
import sys

from affinity_client.cli import main

sys.exit(main())
