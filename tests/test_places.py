"""The affiliation locator and the locate stage (offline gazetteer)."""

from __future__ import annotations

import pytest

from citelens.document import Affiliation, Author, Document
from citelens.formats.jats import parse_jats
from citelens.places import country_code, locate_affiliation, locate_authors


@pytest.mark.parametrize(("raw", "country", "city", "region"), [
    ("J.E. Cairnes School of Business and Economics, University of Galway, University Road, Galway, "
     "H91 CF50 Ireland", "IE", "Galway", "Connacht"),
    ("School of Advanced Materials Science and Engineering, Sungkyunkwan University, Suwon 16419, "
     "Republic of Korea", "KR", "Suwon", "Gyeonggi-do"),
    ("Air Company, 407 Johnson Avenue, Brooklyn, NY 11206, USA", "US", "Brooklyn", "New York"),
    ("Department of Biology, Harvard University, Cambridge, MA 02138", "US", "Cambridge", "Massachusetts"),
    ("Department of Physics, University of Toronto, Toronto, ON M5S 1A7 Canada", "CA", "Toronto", "Ontario"),
    ("Institute of Botany, Chinese Academy of Sciences, Beijing 100093, P.R. China", "CN", "Beijing", ""),
    ("Laboratoire X, Université de Bordeaux, 33000 Bordeaux, France", "FR", "Bordeaux", ""),
])
def test_free_text_affiliations_are_located(raw: str, country: str, city: str, region: str) -> None:
    loc = locate_affiliation(raw)
    assert loc.country == country
    assert loc.city == city
    if region:
        assert loc.region == region


@pytest.mark.parametrize(("raw", "city", "region"), [
    # The registry records some organisations' province as their city: the province is not the city when the
    # address names one in it (before, every Ontario address was in the city "Ontario", every Kanagawa one
    # in "Kanagawa": Toronto, Ottawa and London ON were one city).
    ("Department of Ecology and Evolutionary Biology, University of Toronto, 25 Willcocks, Toronto, Ontario "
     "M5S 3B2 Canada", "Toronto", "Ontario"),
    ("Children's Hospital of Eastern Ontario, Ottawa, Ontario, Canada", "Ottawa", "Ontario"),
    ("Biological Data Management and Technology Center, Lawrence Berkeley National Laboratory, Berkeley, "
     "California, USA", "Berkeley", "California"),
    ("RIKEN Center for Sustainable Resource Science, 1-7-22 Suehiro-cho, Tsurumi-ku, Yokohama, Kanagawa "
     "230-0045, Japan", "Yokohama", "Kanagawa"),
    ("College of Agronomy, Northwest A&F University, Yangling 712100, Shaanxi, China", "Yangling", "Shaanxi"),
    ("Department of Studies in Biotechnology, University of Mysore, Manasagangotri, Mysore, 570006 Karnataka India",
     "Mysore", "Karnataka"),
    # A city of the region's name in another region (Ibaraki, Osaka) is not the prefecture Ibaraki.
    ("University of Tsukuba, 1-1-1 Tennodai, Tsukuba, Ibaraki 305-0006, Japan", "Tsukuba", "Ibaraki"),
    ("Global Health Program, Bill and Melinda Gates Foundation, Seattle, Washington, USA", "Seattle", "Washington"),
    # A region's own town stays the city; with no other city, so does the region's name.
    ("Institute of Zoology, Chinese Academy of Sciences, Beijing 100101, China", "Beijing", "Beijing"),
    ("Department of Life Science, Waseda University, Shinjuku, Tokyo, 169-8555 Japan", "Tokyo", "Tokyo"),
    ("Department of Medicine, Columbia University, New York, NY 10032, USA", "New York", "New York"),
    ("Center for Liberal Arts, Meiji Gakuin University, Kanagawa, Japan", "Kanagawa", "Kanagawa"),
    # A region's own city is not the city of an address that names another before it: before, McGill was in
    # Québec City, Jilin University (Changchun) in Jilin City, Campinas and Suita in São Paulo and Osaka.
    ("McGill University, Montreal, Quebec, Canada", "Montréal", "Quebec"),
    ("College of Plant Science, Jilin University, Changchun, Jilin, China", "Changchun", "Jilin"),
    ("Universidade Estadual de Campinas, Campinas, São Paulo, Brazil", "Campinas", "Sao Paulo"),
    ("Osaka University Hospital, 2-15 Yamadaoka, Suita, Osaka, 565-0871 Japan", "Suita", "Osaka"),
    ("Laval University, Quebec, Canada", "Québec", "Quebec"),  # no other city: the region's own
    # …but a word of an organisation or a street, or a ward of the city, is no other city.
    ("School of Biomedical and Health Sciences, Universidad Europea de Madrid, 28670 Madrid, Spain", "Madrid",
     "Madrid"),
    ("Departamento de Botânica, Rua do Matão 277, CEP 05508-900, São Paulo, SP, Brazil", "São Paulo", "Sao Paulo"),
    ("Department of Chemistry, Kyoto University, Sakyo-ku, Kyoto, 606-8502 Japan", "Kyoto", "Kyoto"),
    # A region that is one city keeps its districts: Tongzhou is in Beijing, New Delhi in Delhi.
    ("Department of X, Tongzhou, Beijing, China", "Beijing", "Beijing"),
    ("ICAR-Indian Agricultural Research Institute, New Delhi, Delhi 110 012 India", "Delhi", "Delhi"),
    # Inside a region's whole name, only a city of that region: "District of Columbia" is not Columbia, MD.
    ("National Academies of Sciences, Washington, District of Columbia, USA", "Washington", "District of Columbia"),
])
def test_a_province_is_not_the_city_of_an_address_that_names_one(raw: str, city: str, region: str) -> None:
    loc = locate_affiliation(raw)
    assert (loc.city, loc.region) == (city, region)


@pytest.mark.parametrize(("tagged_city", "raw", "city"), [
    ("Department of Environmental Sciences", "Department of Environmental Sciences, University of Basel, Basel, "
     "Switzerland", "Basel"),
    ("Anderson School of Management", "Anderson School of Management, UCLA, Los Angeles, CA, United States of America",
     "Los Angeles"),
    ("Key Laboratory of Jilin Province for Zoonosis Prevention and Control", "Key Laboratory of Jilin Province for "
     "Zoonosis Prevention and Control, Changchun, China", "Changchun"),
    ("Influenza Division", "Influenza Division, US Centers for Disease Control and Prevention, Atlanta, Georgia, "
     "United States of America", "Atlanta"),
    ("UMR 228", "UMR 228, ESPACE-DEV, Université de Montpellier II, IRD, Montpellier, France", "Montpellier"),
    ("8046 Zurich", "Agroscope, Research Division Agroecology and Environment, 8046 Zurich, Switzerland", "Zürich"),
    ("Ottendorf-Okrilla", "Some Firm GmbH, Ottendorf-Okrilla, Germany", "Ottendorf-Okrilla"),  # a real tag stays
])
def test_a_tagged_city_that_names_a_department_is_not_the_city(tagged_city: str, raw: str, city: str) -> None:
    # Before, the tag was taken as the city: "Department of Medicine" was a city in the US that seven
    # institutions shared, so their ties were same-city ties.
    assert locate_affiliation(raw, city=tagged_city).city == city


JATS_ADDR_LINE = b"""<?xml version="1.0"?>
<article><front><article-meta><contrib-group>
<contrib contrib-type="author"><name><surname>Beck</surname><given-names>Jan</given-names></name>
<xref ref-type="aff" rid="aff1"/></contrib></contrib-group>
<aff id="aff1"> <addr-line>Department of Environmental Sciences, University of Basel, Basel, Switzerland</addr-line> </aff>
</article-meta></front><body/></article>"""


def test_a_plos_address_in_one_addr_line_is_located_at_its_city() -> None:
    doc = parse_jats(JATS_ADDR_LINE, "plos.xml")
    locate_authors(doc)
    aff = doc.authors[0].affiliations[0]
    assert (aff.country_code, aff.city, aff.institution) == ("CH", "Basel", "University of Basel")


def test_the_registry_organisation_is_the_institution_the_address_names() -> None:
    # Before, the last part that named any registry organisation won: a UCLA chemist who is also an HHMI
    # investigator was at HHMI (006w34k90), so same-institution ties with every HHMI lab in the country;
    # "Providence" (an alias of Providence College) made Brown's medical school Providence College.
    loc = locate_affiliation("Department of Chemistry and Biochemistry, University of California Los Angeles, "
                             "Howard Hughes Medical Institute, Los Angeles, CA 90095, USA")
    assert (loc.ror, loc.institution) == ("046rm7j60", "University of California Los Angeles")
    loc = locate_affiliation("Department of Medicine, Warren Alpert Medical School of Brown University, Providence, RI USA")
    assert loc.ror != "00rxpqe74" and loc.city == "Providence"
    # A lab's name is not the institution's label when the registry knows the organisation.
    loc = locate_affiliation("Department of Chemistry and Applied Biosciences, Laboratory of Organic Chemistry, "
                             "ETH Zürich, 8093, Zürich, Switzerland")
    assert (loc.ror, loc.institution) == ("05a28rw58", "ETH Zurich")


def test_each_campus_of_a_state_university_system_is_its_own_institution() -> None:
    # "University of California, Davis" and "University of California, San Diego" were both the institution
    # "University of California" (no registry id): one node, and same-institution ties between campuses.
    davis = locate_affiliation("Department of Plant Sciences, University of California, Davis, CA, USA")
    sd = locate_affiliation("Department of Medicine, University of California, San Diego, La Jolla, California")
    assert (davis.ror, davis.institution) == ("05rrcem69", "University of California, Davis")
    assert (sd.ror, sd.institution) == ("0168r3w48", "University of California, San Diego")
    madison = locate_affiliation("Department of Botany, University of Wisconsin, Madison, WI 53706 USA")
    assert madison.ror == "01y2jtd41"
    # A university that is not a state's system keeps its name: the next part is only its city.
    purdue = locate_affiliation("Department of Food Science, Purdue University, West Lafayette, IN 47907, USA")
    assert purdue.institution == "Purdue University"
    michigan = locate_affiliation("School of Public Health, University of Michigan, Ann Arbor, MI 48109, USA")
    assert (michigan.ror, michigan.institution) == ("00jmfr291", "University of Michigan")


@pytest.mark.parametrize(("raw", "region"), [
    # The country's name is also a first-level region (the State of México, Taiwan Province): before, 106 of
    # the 127 located Mexican affiliations of pmc-oa were in the region "Mexico", Hermosillo and Mérida alike,
    # and every Taiwanese one in "Taiwan", so their ties were same-region ties.
    ("Biopolymers, Research Center for Food and Development, CIAD, A.C. Carretera a La Victoria Km. 0.6, 83304 "
     "Hermosillo, SON, Mexico", "Sonora"),
    ("Departamento de Matemáticas, Universidad de Guadalajara, 44430, Guadalajara, Jalisco, México", "Jalisco"),
    ("Departamento de Biología Celular, Facultad de Ciencias, Universidad Nacional Autónoma de México, "
     "Mexico City, Mexico", "Mexico City"),
    ("Academia Sinica, Taipei, 115 Taiwan", "Taipei"),
])
def test_the_country_is_not_its_namesake_region(raw: str, region: str) -> None:
    assert locate_affiliation(raw).region == region


def test_a_tagged_region_is_named_as_the_gazetteer_names_it() -> None:
    # JATS <state>TX</state> was kept as "TX", so an author tagged "TX" and one whose address says "Texas" were
    # in two regions (flows --by region: a same-country tie, two nodes).
    tagged = locate_affiliation("Department of Medicine, UT Health San Antonio, San Antonio, TX, USA", region="TX",
                                country="USA")
    assert tagged.region == locate_affiliation("UT Health San Antonio, San Antonio, Texas, USA").region == "Texas"
    assert locate_affiliation("Western University, London", region="ON", country="Canada").region == "Ontario"
    # A region the gazetteer does not know is kept as tagged.
    assert locate_affiliation("Somewhere, Atlantis", region="Upper Shire", country="DE").region == "Upper Shire"


def test_a_state_abbreviation_beside_a_zip_code_is_not_a_country() -> None:
    # "MA" is also Morocco's ISO code: in free text it is read as Massachusetts.
    assert locate_affiliation("Harvard Medical School, Boston, MA 02115").country == "US"


def test_institution_and_ror_id() -> None:
    loc = locate_affiliation("Department of Physics, University of Toronto, Toronto, ON M5S 1A7 Canada")
    assert loc.institution == "University of Toronto" and loc.ror == "03dbr7087"
    # A tagged department + organisation keeps the organisation; a tagged ROR id wins over name matching.
    loc = locate_affiliation("Department of Physics, University of Toronto, Toronto, Canada",
                             institution="Department of Physics, University of Toronto", ror="https://ror.org/03dbr7087")
    assert (loc.institution, loc.ror, loc.country) == ("University of Toronto", "03dbr7087", "CA")


def test_tags_win_over_text() -> None:
    loc = locate_affiliation("Somewhere Institute, Paris", country="Canada")
    assert loc.country == "CA" and loc.city == ""  # no Paris in Canada's large cities: not guessed
    assert locate_affiliation("Nowhere in particular").country == ""


def test_country_names_and_codes() -> None:
    for name, code in (("USA", "US"), ("United Kingdom", "GB"), ("The Netherlands", "NL"), ("P. R. China", "CN"),
                       ("Türkiye", "TR"), ("Turkey", "TR"), ("Viet Nam", "VN"), ("Brasil", "BR"), ("DE", "DE")):
        assert country_code(name) == code, name
    assert country_code("MA 02138", allow_code=False) == ""
    assert country_code("Atlantis") == ""


def test_jats_tags_are_read_and_the_stage_fills_iso_codes(mini_jats: bytes) -> None:
    doc = parse_jats(mini_jats, "mini.xml")
    aff = doc.authors[0].affiliations[0]
    assert (aff.institution, aff.country, aff.raw) == ("University of Lagos", "Nigeria", "University of Lagos, Lagos, Nigeria")
    locate_authors(doc)
    assert [(a.affiliations[0].country_code, a.affiliations[0].city) for a in doc.authors] == [
        ("NG", "Lagos"), ("SE", "Uppsala")]


JATS_UNTAGGED = b"""<?xml version="1.0"?>
<article><front><article-meta><contrib-group>
<contrib contrib-type="author"><contrib-id contrib-id-type="orcid">https://orcid.org/0000-0002-1825-0097</contrib-id>
<name><surname>Kim</surname><given-names>Jung-Gu</given-names></name><email>jgkim@skku.edu</email>
<xref ref-type="aff" rid="a1"/></contrib></contrib-group>
<aff id="a1"><label>1</label><institution-wrap><institution-id institution-id-type="ROR">https://ror.org/04q78tk20</institution-id>
<institution>Sungkyunkwan University</institution></institution-wrap>, Suwon 16419, Republic of Korea; <email>x@skku.edu</email> (J.-G.K.)</aff>
</article-meta></front><body/></article>"""


def test_jats_orcid_email_ror_and_free_text_country() -> None:
    doc = parse_jats(JATS_UNTAGGED, "k.xml")
    (author,) = doc.authors
    assert (author.orcid, author.email) == ("0000-0002-1825-0097", "jgkim@skku.edu")
    aff = author.affiliations[0]
    assert aff.raw == "Sungkyunkwan University, Suwon 16419, Republic of Korea" and aff.ror == "https://ror.org/04q78tk20"
    locate_authors(doc)
    assert (aff.country_code, aff.city, aff.ror, aff.institution) == ("KR", "Suwon", "04q78tk20", "Sungkyunkwan University")


def test_hostile_affiliation_text_is_harmless() -> None:
    doc = Document(source="x", authors=[Author(family="X", affiliations=[
        Affiliation(raw="<script>alert(1)</script>, ,,;;" + "a" * 10000), Affiliation()])])
    locate_authors(doc)
    assert doc.authors[0].affiliations[0].country_code == ""


@pytest.mark.parametrize(("raw", "country"), [
    ("Los Alamos National Laboratory, Bioscience Division, Los Alamos, New Mexico", "US"),  # not Mexico
    ("School of Public Health, University of New South Wales, Sydney", "AU"),  # not Wales
    ("CSIRO Agriculture & Food, St Lucia, QLD", "AU"),  # not Saint Lucia
    ("Department of Genetics, University of Georgia, Athens, GA", "US"),  # not Georgia, not Greece
    ("Lawson Health Research Institute, London, ON", "CA"),  # the province decides which London
    ("Royal College of Surgeons in Ireland, Manama", "BH"),  # a country inside a name is no address
    ("Institute of Hygiene, University of Münster, Münster", "DE"),  # not the Irish province
    ("International Rice Research Institute, Los Baños", "PH"),  # a town only the ROR registry knows
    ("CureVac AG, Tuebingen", "DE"),  # German spelling without umlaut
    ("Benson Hill Biosystems, Inc., Saint Louis, MO", "US"),  # "Saint" for "St."
    ("Department of Marketing, WU Vienna University of Economics and Business, Vienna", "AT"),
    ("The Babraham Institute, Cambridge CB22 3AT", "GB"),  # a UK postcode decides which Cambridge
    ("Department of Chemistry and Biological Sciences, Iwate University", ""),  # "University" is no city here
    ("Neuroscience, IMED Biotech Unit, AstraZeneca, Cambridge", ""),  # Cambridge UK or MA: no guess
])
def test_countries_inferred_from_untagged_text(raw: str, country: str) -> None:
    assert locate_affiliation(raw).country == country


def test_a_shared_place_name_goes_to_the_country_with_most_research_there() -> None:
    from citelens.places.locate import likely_country

    assert likely_country({"AT", "US"}, "vienna") == "AT"
    assert likely_country({"GB", "US"}, "cambridge") == ""  # 94 vs 90 organisations: a toss-up
    assert likely_country({"FR"}, "anything") == "FR"


def test_territories_keep_their_own_codes() -> None:
    assert locate_affiliation("City University of Hong Kong, Kowloon, Hong Kong SAR, China").country == "HK"
    assert locate_affiliation("City University of Hong Kong, Kowloon", country="Hong Kong SAR, China").country == "HK"
    assert locate_affiliation("Shenzhen Research Institute, City University of Hong Kong, Shenzhen, China").country == "CN"
    assert locate_affiliation("Academia Sinica, Taipei, 115 Taiwan").country == "TW"


def test_loading_the_gazetteer_leaves_the_garbage_collector_as_it_found_it() -> None:
    import gc

    from citelens.places.gazetteer import gazetteer

    fresh = gazetteer.__wrapped__  # the loader itself, past the per-process cache
    was = gc.isenabled()
    try:
        gc.disable()
        g = fresh()
        assert not gc.isenabled()  # a caller that paused the collector keeps it paused
        gc.enable()
        assert fresh().by_ror.keys() == g.by_ror.keys()
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def test_the_shipped_key_file_is_that_of_the_shipped_gazetteer() -> None:
    # The keys are folded at build time (scripts/build_gazetteer.py); a change to place_key or to the data file
    # without a rebuild would leave lookups reading stale keys. Rebuild with: scripts/build_gazetteer.py --keys-only
    import gzip
    from importlib import resources

    from citelens.places.gazetteer import DATA_FILE, KEYS_FILE, key_file_text

    package = resources.files("citelens.places")
    shipped = gzip.decompress(package.joinpath(KEYS_FILE).read_bytes()).decode("utf-8")
    assert shipped == key_file_text(package.joinpath(DATA_FILE).read_bytes())


def test_the_gazetteer_is_the_same_with_and_without_its_key_file(monkeypatch) -> None:
    import sys

    import citelens.places.gazetteer  # noqa: F401 - the module, which the package's function name shadows

    module = sys.modules["citelens.places.gazetteer"]
    with_keys = module._read_gazetteer()
    monkeypatch.setattr(module, "_shipped_keys", lambda *_: None)  # as with a missing or stale key file
    assert module._read_gazetteer() == with_keys


def test_a_stale_or_damaged_key_file_is_not_read(tmp_path) -> None:
    import gzip
    import sys

    import citelens.places.gazetteer  # noqa: F401

    module = sys.modules["citelens.places.gazetteer"]
    data = gzip.compress(b"C\tFR\tFrance\nC\tDE\tGermany\n")
    (tmp_path / module.DATA_FILE).write_bytes(data)
    assert module._shipped_keys(tmp_path, data, 2) is None  # no key file
    (tmp_path / module.KEYS_FILE).write_bytes(gzip.compress(module.key_file_text(data).encode()))
    assert module._shipped_keys(tmp_path, data, 2) == ["=", "="]
    other = gzip.compress(b"C\tFR\tFrance\nC\tDE\tDeutschland\n")
    assert module._shipped_keys(tmp_path, other, 2) is None  # made from another data file
    (tmp_path / module.KEYS_FILE).write_bytes(b"not gzip")
    assert module._shipped_keys(tmp_path, data, 2) is None


@pytest.mark.parametrize(("raw", "kwargs", "city", "region"), [
    # Before, GeoNames' "New York City" and the registry's "New York" were two cities (two nodes of the city
    # network, and no same-city tie between them); "X City" and "X" in one region are one city when the registry
    # writes one of the two names.
    ("Columbia University, New York City, NY 10032, USA", {}, "New York", "New York"),
    ("Columbia University, New York, NY 10032, USA", {}, "New York", "New York"),
    ("Weill Cornell Medicine", {"city": "New York City", "country": "USA"}, "New York", "New York"),
    ("Department of Chemistry, Sophia University", {"city": "Chiyoda", "country": "Japan"}, "Chiyoda City", "Tokyo"),
    ("Benemérita Universidad Autónoma de Puebla, Puebla, Mexico", {}, "Puebla City", "Puebla"),
    # Two GeoNames towns are two cities, whatever their names.
    ("Union City Public Library, Union City, NJ 07087, USA", {}, "Union City", "New Jersey"),
])
def test_one_city_has_one_name(raw: str, kwargs: dict, city: str, region: str) -> None:
    loc = locate_affiliation(raw, **kwargs)
    assert (loc.city, loc.region) == (city, region)


@pytest.mark.parametrize(("raw", "kwargs", "city", "region"), [
    # A state written after a town the gazetteer does not know is the state, not its namesake city elsewhere:
    # before, "Smalltown, Washington" was in the city of Washington (DC), "Apsley, Ontario" in the "city"
    # Ontario (the registry records some organisations' province as their city).
    ("Foo Lab, Smalltown, Washington 99163, USA", {}, "", "Washington"),
    ("Lean Environmental, Apsley, Ontario, Canada", {}, "", "Ontario"),
    ("School of Agriculture, Meiji University, 1-1-1 Higashi-Mita, Tama-ku, Kawasaki-shi, Kanagawa 214-8571 Japan",
     {}, "", "Kanagawa"),  # not Meiji's seat, Tokyo: the address names a town in another prefecture
    ("Department of Crop and Soil Sciences, Washington State University, Pullman, Washington, USA", {},
     "Pullman", "Washington"),
    ("National Academy of Sciences, Washington, USA", {}, "Washington", ""),  # no town before: the city
    ("Children's Hospital of Eastern Ontario, Ottawa, Ontario, Canada", {}, "Ottawa", "Ontario"),
    # An organisation's acronym tagged as the city is no city; the text says where it is.
    ("GDEC, INRA, UCA, Clermont-Ferrand, France", {"city": "GDEC"}, "Clermont-Ferrand", ""),
    ("CIMMYT, Texcoco, Mexico", {"city": "CIMMYT"}, "Texcoco", ""),
    ("IRD, CIRAD, Université Montpellier, IPME, Montpellier, France", {"city": "IRD"}, "Montpellier", ""),
    ("University of Georgia, Athens, GA, 30602", {"city": "GA"}, "Athens", "Georgia"),
    ("Lyon, France", {"city": "LYON"}, "Lyon", ""),  # a city written in capitals is still the city
])
def test_unknown_towns_and_acronyms_are_not_cities_elsewhere(raw: str, kwargs: dict, city: str, region: str) -> None:
    loc = locate_affiliation(raw, **kwargs)
    assert loc.city == city
    if region:
        assert loc.region == region


@pytest.mark.parametrize(("raw", "kwargs", "city", "region"), [
    # One city, one region: the region an address spells otherwise is the city's, as the gazetteer names it
    # (before, Guangzhou was in "Guangdong" and in "Guangdong Province", Singapore in "" and in "SG.01": two
    # cities each, once the city network keyed cities by region).
    ("School of Geography and Planning, Sun Yat-sen University, Guangzhou, Guangdong Province, China",
     {"city": "Guangzhou", "region": "Guangdong Province"}, "Guangzhou", "Guangdong"),
    ("Department of Chemistry, Università degli Studi di Milano, Milan, Italy", {}, "Milan", "Lombardy"),
    # A region the gazetteer knows stays, even where the city's name is elsewhere too (Rochester, Minnesota).
    ("Mayo Clinic, Rochester, MN 55905, USA", {}, "Rochester", "Minnesota"),
    ("University of New Hampshire, Durham, NH 03824, USA", {}, "Durham", "New Hampshire"),
])
def test_a_city_is_in_its_region(raw: str, kwargs: dict, city: str, region: str) -> None:
    loc = locate_affiliation(raw, **kwargs)
    assert (loc.city, loc.region) == (city, region)


@pytest.mark.parametrize(("raw", "city", "region"), [
    # A city the address gives no region for is in the region where three quarters of the registry's
    # organisations of that name are (before, "Changsha, China" had no region while "Changsha, Hunan" had one:
    # two nodes of the city network for one city)…
    ("College of Plant Protection, Hunan Agricultural University, Changsha, China", "Changsha", "Hunan"),
    ("College of Animal Science, Yangzhou University, Yangzhou, China", "Yangzhou", "Jiangsu"),
    # …and in none where the name is shared (Lexington: Kentucky 15, Massachusetts 7, Virginia 1).
    ("Some Institute, Lexington, USA", "Lexington", ""),
    # A state written with its country in one part is the state (it was missed, and Augusta, GA was put in Maine).
    ("Cellular Biology and Anatomy, Augusta University, Augusta, GA USA", "Augusta", "Georgia"),
    ("Crop Improvement and Genetics Research, USDA-ARS, Albany, CA USA", "Albany", "California"),
    ("School of Agriculture, Food and Wine, University of Adelaide, Urrbrae, South Australia 5064 Australia", "",
     "South Australia"),
    ("Adelaide Cancer Centre, Kurralta Park, South Australia, Australia", "", "South Australia"),
])
def test_a_city_without_a_region_is_in_the_registry_s_region(raw: str, city: str, region: str) -> None:
    loc = locate_affiliation(raw)
    assert (loc.city, loc.region) == (city, region)
