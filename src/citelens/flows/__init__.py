"""Knowledge flows: citation ties across institutions and places (``citelens flows``), and the analysis of a
network the user brings (:mod:`citelens.flows.network`).

Over the index: :mod:`citelens.flows.distance` classifies a tie (same institution … international; pure
rules), :mod:`citelens.flows.baseline` draws the matched controls of the Jaffe–Trajtenberg–Henderson
baseline, :mod:`citelens.flows.stats` holds the statistics (localisation ratio with a bootstrap interval,
chi-square), :mod:`citelens.flows.analysis` puts them together over a store (``analyse_flows``, what
``citelens flows --by`` and the ``/flows`` page show) and :mod:`citelens.flows.export` writes the network
(GraphML, edge CSV).
"""

from citelens.flows.distance import DISTANCES, LEVELS, Place, is_local, place_distance, tie_distance

__all__ = ["DISTANCES", "LEVELS", "Place", "is_local", "place_distance", "tie_distance"]
