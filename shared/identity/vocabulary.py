"""Word lists for company-name normalisation: abbreviations, generic business words, stop words, division tags.

Plain data, no logic. All entries are already folded (lower-case ASCII) as names.py produces them. Conflict's
matching weighs names with the same lists (generic and organisational words count less).
"""

from __future__ import annotations

# Abbreviation (or spelling variant) -> canonical token(s). Plural/singular variants of generic words share
# one canonical form so "Solution" and "Solutions" compare equal.
ABBREVIATIONS: dict[str, str] = {
    "intl": "international", "internat": "international", 
    "corp": "corporation", "corpn": "corporation",
    "svcs": "services", "svc": "services", "srvcs": "services", "serv": "services", "service": "services",
    "mfg": "manufacturing", "mfrs": "manufacturers", "mfr": "manufacturer", "manuf": "manufacturing",
    "tech": "technologies", "techs": "technologies", "technology": "technologies", "technol": "technologies",
    "techn": "technologies",
    "sys": "systems", "syst": "systems", "system": "systems",
    "natl": "national", "nat'l": "national",
    "assoc": "associates", "assocs": "associates", "associate": "associates",
    "assn": "association", "asso": "association", "assn.": "association",
    "bros": "brothers", "brother": "brothers",
    "grp": "group", "groupe": "group", "gruppe": "group", "grupo": "group", "gruppo": "group", "gruppen": "group",
    "hldgs": "holdings", "hldg": "holdings", "hlds": "holdings", "holding": "holdings", 
    "mgmt": "management", "mgt": "management",
    "dept": "department", "dpt": "department",
    "univ": "university", "uni": "university", "universitaet": "university", "universitat": "university",
    "universite": "university", "universidad": "university", "universita": "university",
    "universiteit": "university", "universidade": "university", "uniwersytet": "university",
    "ctr": "center", "cntr": "center", "centre": "center", "centro": "center", "zentrum": "center",
    "inst": "institute", "instit": "institute", "institut": "institute", "instituto": "institute",
    "hosp": "hospital", "hospitals": "hospital", "krankenhaus": "hospital", "hopital": "hospital",
    "med": "medical", "pharma": "pharmaceuticals", "pharm": "pharmaceuticals", "pharmaceutical": "pharmaceuticals",
    "labs": "laboratories", "lab": "laboratories", "laboratory": "laboratories", "labo": "laboratories",
    "ind": "industries", "inds": "industries", "indus": "industries", "industry": "industries",
    "industrie": "industries", "industrial": "industrial",
    "eng": "engineering", "engg": "engineering", "engr": "engineering",
    "elec": "electric", "electr": "electric",
    "dev": "development", "devel": "development",
    "finl": "financial", "finan": "financial",
    "ins": "insurance", "insur": "insurance",
    "invest": "investments", "invt": "investments", "investment": "investments",
    "govt": "government", "gov": "government",
    
    "solution": "solutions", "soln": "solutions", "solns": "solutions",
    "product": "products", "prods": "products", "prod": "products",
    "comm": "communications", "comms": "communications", "communication": "communications",
    "telecom": "telecommunications", "telecoms": "telecommunications",
    "telecommunication": "telecommunications",
    "mkt": "market", "mkts": "markets", "mktg": "marketing",
    "dist": "distribution", "distr": "distribution", "distrib": "distribution",
    "mfrg": "manufacturing", "equip": "equipment", "eqpt": "equipment",
    "chem": "chemicals", "chemical": "chemicals", "automotive": "automotive",
    "bk": "bank", "bancorp": "bancorp",
    "cty": "county", "cnty": "county", "muni": "municipal",
    "enterprise": "enterprises", "entp": "enterprises",
    "resource": "resources",
    
    "ptnrs": "partners", "prtnrs": "partners", "partner": "partners",
    "mgmnt": "management",
    "st": "saint", "ste": "sainte", "sta": "santa", "mt": "mount", "ft": "fort",
    "coop": "cooperative", "cooperativa": "cooperative", "genossenschaft": "cooperative",
    "cie": "company", "cia": "company", "compania": "company", "companhia": "company",
    "gesellschaft": "company",
}

# Multi-word spellings that read as one canonical token.
PHRASES: dict[tuple[str, ...], str] = {
    ("co", "op"): "cooperative",
    ("co", "operative"): "cooperative",
    ("e", "commerce"): "ecommerce",
    ("health", "care"): "healthcare",
    ("tele", "communications"): "telecommunications",
    ("bio", "tech"): "biotech",
    ("real", "estate"): "realestate",
}

# Words that say little about which company is meant. Weighted down in name similarity and not used
# alone as blocking keys. Canonical forms only (see ABBREVIATIONS).
GENERIC_WORDS: frozenset[str] = frozenset("""
bank banks banking bancorp bancshares financial finance capital credit savings loan trust insurance assurance
mutual investments investment securities asset assets wealth fund funds equity ventures venture advisors
advisory group holdings company corporation enterprises industries international national global
worldwide world universal general united first american america europe european asia asian pacific
atlantic north south east west northern southern eastern western central new old great royal
systems solutions technologies services products services consulting consultants management partners
associates brothers sons son family agency network networks media communications telecommunications
digital data software computer computers electronics electronic electric electrical energy power utilities
oil gas petroleum resources mining metals steel chemicals materials plastics paper packaging
manufacturing manufacturers industrial engineering construction builders building homes properties
realestate realty development developments infrastructure logistics transport transportation shipping
freight airlines air airways lines motors motor automotive auto cars trucks aerospace defense defence
health healthcare medical pharmaceuticals pharmacy hospital hospitals clinic clinics care dental
laboratories labs biotech sciences science life therapeutics diagnostics devices instruments
foods food beverages beverage brands retail stores store market markets supermarkets trading trade
imports exports distribution distributors supply supplies wholesale foods farms agriculture
hotels hotel resorts entertainment games sports education university college school schools institute
academy center city county state municipal municipality district council authority department ministry
government public society association foundation cooperative union federation church
research laboratories innovation innovations marketing design studio studios creative
center centre home house land water environmental green clean solar wind
the and of de la le des du der die das und et y e da do dos del di van von den het
limited
""".split())

# Words that only wrap a company ("Acme Holdings" is Acme); weighted below the other generic words.
ORGANISATIONAL_WORDS: frozenset[str] = frozenset("""
group holdings company companies corporation enterprises incorporated limited
""".split())

# Connecting words that carry no identity at all; dropped from comparison tokens (kept in the folded text).
STOP_WORDS: frozenset[str] = frozenset("""
the and of for a an de la le les l des du d der die das den dem und et y e da do dos das del di van von
het en i och og og ve al el los las
""".split())

# Words that, alone or together, make a trailing " - X" / ", X" segment a division tag rather than part of the name.
DIVISION_KEYWORDS: frozenset[str] = frozenset("""
branch branches division divisions office offices region regional subsidiary unit dept department
operations ops hq headquarters plant site campus location filiale niederlassung succursale sucursal
zweigniederlassung representative rep
""".split())

REGION_WORDS: frozenset[str] = frozenset("""
emea apac apj latam lata amer americas anz dach nordics nordic benelux cee mena meta ssa gcc asean
na eu uk us usa international global worldwide north south east west central northern southern
eastern western europe asia africa america pacific middle oceania caribbean iberia iberian scandinavia
germany deutschland france italy italia spain espana portugal netherlands holland belgium luxembourg
switzerland schweiz suisse austria oesterreich poland polska czech czechia slovakia hungary romania
bulgaria greece turkey russia ukraine sweden norway denmark finland iceland ireland britain england
scotland wales canada mexico brazil argentina chile colombia peru venezuela china japan korea taiwan
india indonesia malaysia singapore thailand vietnam philippines australia zealand africa nigeria kenya
egypt israel arabia emirates uae qatar saudi hong kong states united kingdom republic
""".split())

# Functions of a company that partners append as a tag ("Acme - Procurement", "Acme, IT Department").
# Alone, such a word is a tag only after a separator: "Acme Finance" may well be Acme's finance subsidiary.
DEPARTMENT_WORDS: frozenset[str] = frozenset("""
it ict finance procurement purchasing hr legal sales marketing accounts accounting payable receivable
facilities information technology human resources treasury payroll compliance administration admin
corporate head main shared services rd
""".split())

# Words that end a tag appended without a separator: "Acme IT Department", "Acme Head Office", "Acme EMEA Region".
# "headquarters"/"hq" are tags alone; the others need a department or region word before them, since
# "Post Office" and "Fire Department" are names.
TAG_UNIT_WORDS: frozenset[str] = frozenset("""
department dept division office branch unit team hq headquarters region operations subsidiary
""".split())
STANDALONE_TAG_UNIT_WORDS: frozenset[str] = frozenset({"hq", "headquarters"})

# Regions and countries that partners append to a name without a separator ("Halma North America",
# "Symrise Deutschland GmbH"). Deliberately narrower than REGION_WORDS: no lone compass words ("Union Pacific",
# "Canadian Pacific" are names) and no "international"/"global" (part of many legal names).
REGION_TAG_PHRASES: frozenset[tuple[str, ...]] = frozenset(tuple(phrase.split()) for phrase in """
north america|south america|latin america|central america|america|americas|amer|latam|lata|emea|apac|apj|anz
asia pacific|asia|southeast asia|south east asia|north asia|south asia|east asia|greater china|middle east|mena
gcc|asean|europe|central europe|eastern europe|western europe|northern europe|southern europe|cee|dach|benelux
nordics|nordic|scandinavia|iberia|oceania|africa|sub saharan africa|south africa|uk|usa|us|united kingdom
united states|great britain|britain|ireland|deutschland|germany|france|italia|italy|espana|spain|portugal
nederland|netherlands|holland|belgium|belgique|luxembourg|schweiz|suisse|switzerland|austria|osterreich
oesterreich|poland|polska|sverige|sweden|norge|norway|danmark|denmark|suomi|finland|canada|mexico|brasil|brazil
argentina|chile|colombia|peru|china|hong kong|japan|korea|taiwan|india|indonesia|malaysia|singapore|thailand
vietnam|philippines|australia|new zealand|nigeria|kenya|egypt|israel|turkey|turkiye|uae|saudi arabia|qatar
czechia|hungary|romania|greece
""".replace("\n", "|").split("|") if phrase.strip())
