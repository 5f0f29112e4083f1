"""The launcher behind ``./manage_all.sh up|down|status|logs|flower|manage`` and the tests.

One launcher serves both the command line and the cross-service tests (and the benchmark), so
the system the tests drive is the system a newcomer runs:

- ``config``: where the system keeps its state, which stores it uses, its secrets and each
  service's environment (the one source of the services' local configuration);
- ``processes``: :class:`~launcher.processes.System`, which prepares the stores, starts, records
  and stops the processes; and the reading of what a previous ``up`` recorded;
- ``demo``: the demo buyer and catalogue ``up`` loads over the public API;
- ``commands``: the command line (``scripts/system.py`` runs it).
"""
