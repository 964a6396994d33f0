"""Knowledge flows: citation ties across institutions and places (``citelens flows``), and the analysis of a
network the user brings (:mod:`citelens.flows.network`)."""
