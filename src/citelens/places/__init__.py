"""Places: the offline gazetteer and the affiliation locator (``locate_affiliation``, ``locate_authors``)."""

from citelens.places.gazetteer import Gazetteer, Organisation, gazetteer, place_key
from citelens.places.locate import Location, country_code, locate_affiliation
from citelens.places.stage import locate_authors

__all__ = ["Gazetteer", "Location", "Organisation", "country_code", "gazetteer", "locate_affiliation",
           "locate_authors", "place_key"]
