"""Generate the labelled hard-case set for the same-customer matcher (matching_hard_cases.jsonl + _truth.json).

Deterministic (fixed seed). Real company names, none of them a company of companies.txt, in four kinds:

- ``regional_tag``: a name-only registration carries a regional or departmental tag ("Halma North America",
  "Croda - EMEA", "Rotork, IT Department", "Symrise Deutschland GmbH"); the other registration is the plain
  name, name-only or with the company's domain, in the same country.
- ``short_name_slip``: a short single-word name (5-7 letters) with one transposed, doubled or dropped letter on
  a name-only registration; the other registration carries the company's domain; same country.
- ``designator``: a bare brand against its "Holdings" / "Group" / "Company" form ("Bunzl" / "Bunzl Group
  Holdings"), one side without a domain; same country.
- ``negative``: families of *different* real companies that look alike: a shared first word (Strategic
  Education / Strategic Realty Trust, Marathon Oil / Marathon Petroleum), short names one letter apart (Hama /
  Halma, Bauer / Bayer, Daikin / Daiken, Loews / Lowe's), and namesakes across countries. Every pair across
  two members of a family is a true non-match, and every registration in the set shares a product with every
  other one, so nothing is kept apart by products.

Brand pools are disjoint across kinds, so two organisations of the set are never one company.
Run: python tests/data/generate_matching_hard_cases.py
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20250214
HOLDOUT_SHARE = 0.3
SHARED_PRODUCT = "edr-endpoint"  # every registration has it: all pairs are comparable
OTHER_PRODUCTS = ["siem-cloud", "firewall-ngfw", "backup-suite", "email-security", "identity-sso"]
PARTNERS = [f"p{n:03d}" for n in range(1, 61)] + ["direct"]
FREE_MAIL = ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "gmx.de", "web.de", "orange.fr", "libero.it",
             "yahoo.co.jp", "naver.com", "icloud.com", "proton.me", "bigpond.com", "rediffmail.com"]
FIRST_NAMES = ["anna", "john", "maria", "yuki", "carlos", "fatima", "lars", "olga", "priya", "tom", "sofia", "kenji"]
LAST_NAMES = ["smith", "muller", "rossi", "garcia", "tanaka", "kim", "novak", "jensen", "silva", "dubois", "patel"]

LEGAL_FORMS = {
    "US": ["Inc.", "Inc", "Corporation", "Corp.", "LLC", "Co.", ""], "GB": ["plc", "PLC", "Ltd", "Limited", ""],
    "IE": ["plc", "Limited", ""], "DE": ["AG", "SE", "GmbH", ""], "AT": ["AG", "GmbH", ""], "CH": ["AG", "SA", ""],
    "FR": ["SA", "S.A.", "SE", "SAS", ""], "IT": ["S.p.A.", "SpA", ""], "ES": ["S.A.", "SA", ""],
    "NL": ["N.V.", "NV", "B.V.", ""], "SE": ["AB", "AB (publ)", ""], "DK": ["A/S", ""], "FI": ["Oyj", "Oy", ""],
    "NO": ["ASA", "AS", ""], "JP": ["Co., Ltd.", "Corporation", "K.K.", ""], "KR": ["Co., Ltd.", "Corp.", ""],
    "IN": ["Limited", "Ltd", ""], "BR": ["S.A.", ""], "MX": ["S.A.B. de C.V.", ""], "AU": ["Limited", "Ltd", ""],
    "CA": ["Inc.", "Ltd.", ""], "HK": ["Limited", ""], "SG": ["Ltd", "Limited", ""], "ZA": ["Limited", "Ltd", ""],
    "IL": ["Ltd.", ""], "MY": ["Berhad", "Bhd", ""], "CN": ["Co., Ltd.", ""], "TW": ["Corp.", ""],
}

# Short single-word names (5-7 letters): name | domain | country.
SHORT_NAMES = """
Bunzl|bunzl.com|GB  Ocado|ocado.com|GB  Croda|croda.com|GB  Serco|serco.com|GB
Mitie|mitie.com|GB  Greggs|greggs.co.uk|GB  Dunelm|dunelm.com|GB  Rotork|rotork.com|GB  Hiscox|hiscox.com|GB
Beazley|beazley.com|GB  Pearson|pearson.com|GB  Informa|informa.com|GB  Capita|capita.com|GB
Costain|costain.com|GB  Victrex|victrex.com|GB  Genus|genusplc.com|GB  Segro|segro.com|GB
Symrise|symrise.com|DE  Lanxess|lanxess.com|DE  Evonik|evonik.com|DE  Krones|krones.com|DE  Wacker|wacker.com|DE
Aurubis|aurubis.com|DE  Stihl|stihl.com|DE  Miele|miele.com|DE  Festo|festo.com|DE  Trumpf|trumpf.com|DE
Knauf|knauf.com|DE  Rehau|rehau.com|DE  Grohe|grohe.com|DE  Bizerba|bizerba.com|DE
Safran|safran-group.com|FR  Sodexo|sodexo.com|FR  Edenred|edenred.com|FR  Legrand|legrand.com|FR
Arkema|arkema.com|FR  Imerys|imerys.com|FR  Nexans|nexans.com|FR  Rexel|rexel.com|FR  Eiffage|eiffage.com|FR
Accor|accor.com|FR  Ipsen|ipsen.com|FR  Amundi|amundi.com|FR  Alstom|alstom.com|FR  Ubisoft|ubisoft.com|FR
Somfy|somfy.com|FR  Prada|prada.com|IT  Saipem|saipem.com|IT  Brembo|brembo.com|IT  Moncler|moncler.com|IT
Terna|terna.it|IT  Unipol|unipol.it|IT  Iveco|iveco.com|IT  Lavazza|lavazza.com|IT  Ferrero|ferrero.com|IT
Acciona|acciona.com|ES  Grifols|grifols.com|ES  Sacyr|sacyr.com|ES  Enagas|enagas.es|ES  Naturgy|naturgy.com|ES
Cellnex|cellnex.com|ES  Talgo|talgo.com|ES  Signify|signify.com|NL  Arcadis|arcadis.com|NL  Fugro|fugro.com|NL
Corbion|corbion.com|NL  Vopak|vopak.com|NL  Adyen|adyen.com|NL  Aegon|aegon.com|NL  Nedap|nedap.com|NL
Boliden|boliden.com|SE  Elekta|elekta.com|SE  Getinge|getinge.com|SE  Skanska|skanska.com|SE
Hexagon|hexagon.com|SE  Autoliv|autoliv.com|SE  Fortum|fortum.com|FI  Valmet|valmet.com|FI  Metso|metso.com|FI
Kesko|kesko.fi|FI  Sampo|sampo.com|FI  Tomra|tomra.com|NO  Demant|demant.com|DK  Genmab|genmab.com|DK
Nilfisk|nilfisk.com|DK  Amgen|amgen.com|US  Adobe|adobe.com|US  Nvidia|nvidia.com|US  Xerox|xerox.com|US
Mattel|mattel.com|US  Hasbro|hasbro.com|US  Danaher|danaher.com|US  Ametek|ametek.com|US  Fiserv|fiserv.com|US
Cintas|cintas.com|US  Paychex|paychex.com|US  Equifax|equifax.com|US  Hubbell|hubbell.com|US
Lennar|lennar.com|US  Nucor|nucor.com|US  Sysco|sysco.com|US  Kroger|kroger.com|US  Humana|humana.com|US
Cigna|cigna.com|US  Aflac|aflac.com|US  Ecolab|ecolab.com|US  Avnet|avnet.com|US  Intuit|intuit.com|US
Workday|workday.com|US  Zscaler|zscaler.com|US  Akamai|akamai.com|US  Micron|micron.com|US
Corning|corning.com|US  Ansys|ansys.com|US  Textron|textron.com|US  Nordson|nordson.com|US  Xylem|xylem.com|US
Pentair|pentair.com|US  Stryker|stryker.com|US  Hologic|hologic.com|US  Dexcom|dexcom.com|US
Nikon|nikon.com|JP  Ricoh|ricoh.com|JP  Epson|epson.com|JP  Olympus|olympus.com|JP  Kyocera|kyocera.com|JP
Murata|murata.com|JP  Omron|omron.com|JP  Fanuc|fanuc.co.jp|JP  Kubota|kubota.com|JP  Komatsu|komatsu.jp|JP
Suntory|suntory.com|JP  Subaru|subaru.co.jp|JP  Yamaha|yamaha.com|JP  Nidec|nidec.com|JP  Terumo|terumo.com|JP
Sysmex|sysmex.co.jp|JP  Rakuten|rakuten.com|JP  Capcom|capcom.com|JP  Konami|konami.com|JP
Shimano|shimano.com|JP  Makita|makita.co.jp|JP  Kakao|kakaocorp.com|KR  Coupang|coupang.com|KR
Hanwha|hanwha.com|KR  Doosan|doosan.com|KR  Hyosung|hyosung.com|KR  Nexon|nexon.com|KR  Cipla|cipla.com|IN
Lupin|lupin.com|IN  Biocon|biocon.com|IN  Havells|havells.com|IN  Marico|marico.com|IN  Dabur|dabur.com|IN
Gerdau|gerdau.com|BR  Suzano|suzano.com.br|BR  Totvs|totvs.com|BR  Orica|orica.com|AU  Elbit|elbitsystems.com|IL
Amdocs|amdocs.com|IL
"""

# Brands for the regional-tag and designator kinds: brand | legal name | domain | country.
BRANDS = """
Spirax-Sarco|Spirax-Sarco Engineering plc|spiraxsarco.com|GB
Johnson Matthey|Johnson Matthey Plc|matthey.com|GB
Smith & Nephew|Smith & Nephew plc|smith-nephew.com|GB
Intertek|Intertek Group plc|intertek.com|GB
Hargreaves Lansdown|Hargreaves Lansdown plc|hl.co.uk|GB
Whitbread|Whitbread PLC|whitbread.co.uk|GB
Kingfisher|Kingfisher plc|kingfisher.com|GB
Persimmon|Persimmon Plc|persimmonhomes.com|GB
Experian|Experian plc|experian.com|GB
Schroders|Schroders plc|schroders.com|GB
Renishaw|Renishaw plc|renishaw.com|GB
Spectris|Spectris plc|spectris.com|GB
Burberry|Burberry Group plc|burberry.com|GB
Compass|Compass Group PLC|compass-group.com|GB
Ashtead|Ashtead Group plc|ashtead-group.com|GB
Pennon|Pennon Group plc|pennon-group.co.uk|GB
Severn Trent|Severn Trent Plc|severntrent.com|GB
Britvic|Britvic plc|britvic.com|GB
Tate & Lyle|Tate & Lyle PLC|tateandlyle.com|GB
Balfour Beatty|Balfour Beatty plc|balfourbeatty.com|GB
Travis Perkins|Travis Perkins plc|travisperkins.co.uk|GB
Estee Lauder|The Estee Lauder Companies Inc.|elcompanies.com|US
Marsh McLennan|Marsh & McLennan Companies, Inc.|marshmclennan.com|US
Booz Allen Hamilton|Booz Allen Hamilton Inc.|boozallen.com|US
Raymond James|Raymond James Financial, Inc.|raymondjames.com|US
Parker Hannifin|Parker-Hannifin Corporation|parker.com|US
Rockwell Automation|Rockwell Automation, Inc.|rockwellautomation.com|US
Stanley Black & Decker|Stanley Black & Decker, Inc.|stanleyblackanddecker.com|US
Sherwin-Williams|The Sherwin-Williams Company|sherwin-williams.com|US
Zimmer Biomet|Zimmer Biomet Holdings, Inc.|zimmerbiomet.com|US
Edwards Lifesciences|Edwards Lifesciences Corporation|edwards.com|US
Charles Schwab|The Charles Schwab Corporation|schwab.com|US
Cummins|Cummins Inc.|cummins.com|US
Kimberly-Clark|Kimberly-Clark Corporation|kimberly-clark.com|US
Williams-Sonoma|Williams-Sonoma, Inc.|williams-sonoma.com|US
Ralph Lauren|Ralph Lauren Corporation|ralphlauren.com|US
Hormel|Hormel Foods Corporation|hormelfoods.com|US
Clorox|The Clorox Company|thecloroxcompany.com|US
Colgate-Palmolive|Colgate-Palmolive Company|colgatepalmolive.com|US
Teradyne|Teradyne, Inc.|teradyne.com|US
Synopsys|Synopsys, Inc.|synopsys.com|US
Fastenal|Fastenal Company|fastenal.com|US
Illumina|Illumina, Inc.|illumina.com|US
Knorr-Bremse|Knorr-Bremse AG|knorr-bremse.com|DE
Fuchs Petrolub|Fuchs Petrolub SE|fuchs.com|DE
Carl Zeiss|Carl Zeiss AG|zeiss.com|DE
Freudenberg|Freudenberg SE|freudenberg.com|DE
Bertelsmann|Bertelsmann SE & Co. KGaA|bertelsmann.com|DE
Voith|Voith GmbH & Co. KGaA|voith.com|DE
Schaeffler|Schaeffler AG|schaeffler.com|DE
Jenoptik|Jenoptik AG|jenoptik.com|DE
Kuehne + Nagel|Kuehne + Nagel International AG|kuehne-nagel.com|CH
Georg Fischer|Georg Fischer AG|georgfischer.com|CH
Geberit|Geberit AG|geberit.com|CH
Straumann|Straumann Holding AG|straumann.com|CH
Sonova|Sonova Holding AG|sonova.com|CH
Barry Callebaut|Barry Callebaut AG|barry-callebaut.com|CH
Andritz|Andritz AG|andritz.com|AT
Wienerberger|Wienerberger AG|wienerberger.com|AT
Pernod Ricard|Pernod Ricard SA|pernod-ricard.com|FR
Bureau Veritas|Bureau Veritas SA|bureauveritas.com|FR
Sopra Steria|Sopra Steria Group SA|soprasteria.com|FR
Eurofins Scientific|Eurofins Scientific SE|eurofins.com|FR
Bollore|Bollore SE|bollore.com|FR
Fast Retailing|Fast Retailing Co., Ltd.|fastretailing.com|JP
Tokio Marine|Tokio Marine Holdings, Inc.|tokiomarinehd.com|JP
Daiichi Sankyo|Daiichi Sankyo Company, Limited|daiichisankyo.com|JP
Astellas|Astellas Pharma Inc.|astellas.com|JP
Shin-Etsu|Shin-Etsu Chemical Co., Ltd.|shinetsu.co.jp|JP
Sekisui House|Sekisui House, Ltd.|sekisuihouse.co.jp|JP
Asian Paints|Asian Paints Limited|asianpaints.com|IN
Hero MotoCorp|Hero MotoCorp Limited|heromotocorp.com|IN
Jardine Matheson|Jardine Matheson Holdings Limited|jardines.com|HK
Li & Fung|Li & Fung Limited|lifung.com|HK
Wilmar|Wilmar International Limited|wilmar-international.com|SG
Keppel|Keppel Corporation Limited|keppel.com|SG
Sembcorp|Sembcorp Industries Ltd|sembcorp.com|SG
Genting|Genting Berhad|genting.com|MY
Sime Darby|Sime Darby Berhad|simedarby.com|MY
Woodside|Woodside Energy Group Ltd|woodside.com|AU
Brambles|Brambles Limited|brambles.com|AU
Cochlear|Cochlear Limited|cochlear.com|AU
Computershare|Computershare Limited|computershare.com|AU
Ramsay Health Care|Ramsay Health Care Limited|ramsayhealth.com|AU
Thomson Reuters|Thomson Reuters Corporation|thomsonreuters.com|CA
Manulife|Manulife Financial Corporation|manulife.com|CA
Nutrien|Nutrien Ltd.|nutrien.com|CA
Saputo|Saputo Inc.|saputo.com|CA
Lojas Renner|Lojas Renner S.A.|lojasrenner.com.br|BR
Bidvest|The Bidvest Group Limited|bidvest.com|ZA
Tiger Brands|Tiger Brands Limited|tigerbrands.com|ZA
Aspen Pharmacare|Aspen Pharmacare Holdings Limited|aspenpharma.com|ZA
Alsea|Alsea, S.A.B. de C.V.|alsea.com.mx|MX
Amorepacific|Amorepacific Corporation|amorepacific.com|KR
Celltrion|Celltrion, Inc.|celltrion.com|KR
Coloplast|Coloplast A/S|coloplast.com|DK
Rockwool|Rockwool A/S|rockwool.com|DK
Husqvarna|Husqvarna AB|husqvarnagroup.com|SE
Electrolux|Electrolux AB|electroluxgroup.com|SE
Securitas|Securitas AB|securitas.com|SE
Kongsberg|Kongsberg Gruppen ASA|kongsberg.com|NO
Schibsted|Schibsted ASA|schibsted.com|NO
Wartsila|Wartsila Corporation|wartsila.com|FI
Heijmans|Heijmans N.V.|heijmans.nl|NL
Almirall|Almirall, S.A.|almirall.com|ES
Amplifon|Amplifon S.p.A.|amplifon.com|IT
Recordati|Recordati S.p.A.|recordati.com|IT
"""

# Families of different real companies that look alike: family | name | domain or - | country | name as often typed.
NEGATIVE_FAMILIES = """
strategic|Strategic Education, Inc.|strategiceducation.com|US|Strategic Education
strategic|Strategic Realty Trust, Inc.|-|US|Strategic Realty
hama|Hama GmbH & Co KG|hama.com|DE|Hama
hama|Halma plc|halma.com|GB|Halma
apex|Apex Holdings|-|US|Apex Holdings
apex|Apex Logistics International Inc.|apexglobe.com|US|Apex Logistics
johnson|Johnson Outdoors Inc.|johnsonoutdoors.com|US|Johnson Outdoors
johnson|Johnson Service Group plc|jsg.com|GB|Johnson Service
johnson|Johnson Electric Holdings Limited|johnsonelectric.com|HK|Johnson Electric
western|Western Digital Corporation|westerndigital.com|US|Western Digital
western|Western Union Company|westernunion.com|US|Western Union
western|Western Alliance Bancorporation|westernalliancebancorp.com|US|Western Alliance
texas|Texas Instruments Incorporated|ti.com|US|Texas Instruments
texas|Texas Roadhouse, Inc.|texasroadhouse.com|US|Texas Roadhouse
texas|Texas Capital Bancshares, Inc.|-|US|Texas Capital
marathon|Marathon Oil Corporation|-|US|Marathon Oil
marathon|Marathon Petroleum Corporation|marathonpetroleum.com|US|Marathon Petroleum
marathon|Marathon Digital Holdings, Inc.|-|US|Marathon Digital
united|United Rentals, Inc.|unitedrentals.com|US|United Rentals
united|United Therapeutics Corporation|-|US|United Therapeutics
united|United Natural Foods, Inc.|unfi.com|US|UNFI
first|First Solar, Inc.|firstsolar.com|US|First Solar
first|First Horizon Corporation|-|US|First Horizon
first|First American Financial Corporation|firstam.com|US|First American
national|National Express Group PLC|nationalexpressgroup.com|GB|National Express
national|National Instruments Corporation|ni.com|US|NI
royal|Royal Mail plc|royalmail.com|GB|Royal Mail
royal|Royal Caribbean Cruises Ltd.|-|US|Royal Caribbean
standard|Standard Life Aberdeen plc|-|GB|Standard Life
standard|Standard Industries Inc.|standardindustries.com|US|Standard Industries
tokyo|Tokyo Electron Limited|tel.com|JP|Tokyo Electron
tokyo|Tokyo Gas Co., Ltd.|-|JP|Tokyo Gas
tokyo|Tokyo Electric Power Company Holdings, Inc.|tepco.co.jp|JP|TEPCO
mitsubishi|Mitsubishi Chemical Group Corporation|-|JP|Mitsubishi Chemical
mitsubishi|Mitsubishi Estate Co., Ltd.|mec.co.jp|JP|Mitsubishi Estate
mitsubishi|Mitsubishi Heavy Industries, Ltd.|-|JP|Mitsubishi Heavy
sumitomo|Sumitomo Chemical Company, Limited|sumitomo-chem.co.jp|JP|Sumitomo Chemical
sumitomo|Sumitomo Electric Industries, Ltd.|-|JP|Sumitomo Electric
banco|Banco de Sabadell, S.A.|-|ES|Sabadell
banco|Banco Santander, S.A.|santander.com|ES|Santander
bajaj|Bajaj Auto Limited|bajajauto.com|IN|Bajaj Auto
bajaj|Bajaj Finance Limited|-|IN|Bajaj Finance
bajaj|Bajaj Electricals Limited|-|IN|Bajaj Electricals
grupo|Grupo Mexico, S.A.B. de C.V.|-|MX|Grupo Mexico
grupo|Grupo Carso, S.A.B. de C.V.|-|MX|Grupo Carso
samsung|Samsung Biologics Co., Ltd.|-|KR|Samsung Biologics
samsung|Samsung Heavy Industries Co., Ltd.|samsungshi.com|KR|Samsung Heavy
samsung|Samsung SDI Co., Ltd.|-|KR|Samsung SDI
china|China Mobile Limited|-|CN|China Mobile
china|China Telecom Corporation Limited|-|CN|China Telecom
china|China Unicom Limited|chinaunicom.com|CN|China Unicom
swiss|Swiss Life Holding AG|-|CH|Swiss Life
swiss|Swiss Prime Site AG|sps.swiss|CH|Swiss Prime Site
sun|Sun Pharmaceutical Industries Limited|-|IN|Sun Pharma
sun|Sun TV Network Limited|suntv.in|IN|Sun TV
canadian|Canadian Pacific Kansas City Limited|-|CA|Canadian Pacific
canadian|Canadian National Railway Company|cn.ca|CA|Canadian National
canadian|Canadian Tire Corporation, Limited|-|CA|Canadian Tire
union|Union Pacific Corporation|up.com|US|Union Pacific
union|Union Bank|-|US|Union Bank
virgin|Virgin Media Limited|-|GB|Virgin Media
virgin|Virgin Atlantic Airways Limited|virginatlantic.com|GB|Virgin Atlantic
virgin|Virgin Money UK PLC|-|GB|Virgin Money
toyota|Toyota Motor North America, Inc.|-|US|Toyota North America
toyota|Toyota Tsusho America, Inc.|-|US|Toyota Tsusho
air|Air Canada|-|CA|Air Canada
air|Air Transat A.T. Inc.|-|CA|Air Transat
marvel|Marvel Entertainment, LLC|-|US|Marvel
marvel|Marvell Technology, Inc.|marvell.com|US|Marvell
atos|Atos SE|atos.net|FR|Atos
atos|ATOSS Software AG|-|DE|ATOSS
vale|Valeo SE|-|FR|Valeo
vale|Vale Canada Limited|-|CA|Vale
neste|Neste Corporation|-|FI|Neste
neste|Nestle Waters|-|FR|Nestle Waters
linde|Linde GmbH|-|DE|Linde
linde|Lindt & Spruengli AG|lindt-spruengli.com|CH|Lindt
aviva|Aviva Investors|-|GB|Aviva
aviva|Avira Operations GmbH|avira.com|DE|Avira
bosch|Bosch GmbH|bosch.com|DE|Bosch
bosch|Busch SE|buschvacuum.com|DE|Busch
bauer|Bauer AG|bauer.de|DE|Bauer
bauer|Bayer AG|bayer.com|DE|Bayer
daikin|Daiken Corporation|-|JP|Daiken
daikin|Daikin Industries, Ltd.|daikin.com|JP|Daikin
loews|Loews Corporation|-|US|Loews
loews|Lowe's Home Centers, LLC|lowes.com|US|Lowe's
nokia|Nokian Tyres plc|nokiantyres.com|FI|Nokian
nokia|Nokia Solutions and Networks Oy|-|FI|Nokia
sage|Saga plc|saga.co.uk|GB|Saga
sage|Sage UK Limited|-|GB|Sage
gartner|Gartner, Inc.|gartner.com|US|Gartner
gartner|Gardner Denver, Inc.|-|US|Gardner Denver
intel|Intel Israel Ltd.|-|IL|Intel
intel|itel Mobile Limited|itel-life.com|HK|itel
capital|The Capital Group Companies, Inc.|capitalgroup.com|US|Capital Group
capital|Capital One Financial Corporation|-|US|Capital One
howden|Howden Group Holdings Limited|howdengroupholdings.com|GB|Howden Group
howden|Howden Joinery Group Plc|-|GB|Howden Joinery
"""

REGION_TAGS = {
    "US": ["North America", "USA", "US", "Americas", "Latin America"], "CA": ["Canada", "North America"],
    "GB": ["UK", "UK & Ireland", "EMEA", "Europe", "United Kingdom"],
    "IE": ["Ireland", "EMEA"], "DE": ["Deutschland", "Germany", "DACH", "EMEA", "Central Europe"],
    "AT": ["Austria", "Österreich", "CEE", "DACH"], "CH": ["Schweiz", "Suisse", "Switzerland", "DACH"],
    "FR": ["France", "EMEA", "Europe", "Western Europe"], "IT": ["Italia", "Italy", "EMEA", "Southern Europe"],
    "ES": ["España", "Spain", "Iberia", "EMEA"], "NL": ["Nederland", "Netherlands", "Benelux", "EMEA"],
    "SE": ["Sverige", "Nordics", "Nordic", "Scandinavia"], "DK": ["Danmark", "Nordics", "Denmark"],
    "NO": ["Norge", "Nordics", "Norway"], "FI": ["Suomi", "Finland", "Nordics"],
    "JP": ["Japan", "APAC", "Asia Pacific", "North Asia"], "KR": ["Korea", "APAC"], "IN": ["India", "South Asia"],
    "SG": ["Singapore", "APAC", "Asia Pacific", "Southeast Asia", "ASEAN"], "HK": ["Hong Kong", "Greater China"],
    "MY": ["Malaysia", "Southeast Asia"], "AU": ["Australia", "ANZ", "Australia & New Zealand", "APAC"],
    "BR": ["Brasil", "Brazil", "Latin America", "LATAM"], "MX": ["México", "Latin America", "LATAM"],
    "ZA": ["South Africa", "Africa", "Sub-Saharan Africa"],
}
# Department tags that read as a tag with or without a separator (they end in a unit word).
DEPARTMENT_TAGS_ANY = ["IT Dept", "IT Department", "IT Dept.", "Finance Department", "Purchasing Dept",
                       "Head Office", "Regional Office", "HR Department", "Legal Dept", "Procurement Department",
                       "Accounts Payable Dept"]
# Department tags that only read as a tag after a separator ("Acme Finance" could be a finance subsidiary).
DEPARTMENT_TAGS_SEPARATED = ["Procurement", "Information Technology", "IT", "Finance", "R&D", "Accounts Payable",
                             "Human Resources", "Facilities"]
SEPARATORS = [" - ", " – ", ", ", " / ", " | ", " ({})"]
DESIGNATOR_FORMS = ["{b} Holdings", "{b} Holdings Ltd", "{b} Group", "{b} Group plc", "{b} Group Holdings",
                    "{b} Holding Company", "{b} Company", "The {b} Group", "{b} Group of Companies", "{b} Hldgs",
                    "{b} Grp", "{b} Holdings, Inc.", "{b} Group Limited", "{b} Holding AG", "{b} Companies",
                    "{b} & Company", "{b} Group Inc."]


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def parse_short_names() -> list[dict]:
    organisations = []
    for item in SHORT_NAMES.split():
        name, domain, country = item.split("|")
        organisations.append({"brand": name, "name": name, "domain": domain, "country": country})
    return organisations


def parse_brands() -> list[dict]:
    organisations = []
    for line in BRANDS.strip().splitlines():
        brand, name, domain, country = (part.strip() for part in line.split("|"))
        organisations.append({"brand": brand, "name": name, "domain": domain, "country": country})
    return organisations


def parse_families() -> list[dict]:
    organisations = []
    for line in NEGATIVE_FAMILIES.strip().splitlines():
        family, name, domain, country, brand = (part.strip() for part in line.split("|"))
        organisations.append({"family": family, "name": name, "domain": None if domain == "-" else domain,
                              "country": country, "brand": brand})
    return organisations


def with_legal_form(rng: random.Random, name: str, country: str) -> str:
    form = rng.choice(LEGAL_FORMS.get(country, [""]))
    return f"{name} {form}".strip()


def cased(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.12:
        return name.upper()
    if roll < 0.2:
        return name.lower()
    return name


def slipped(rng: random.Random, word: str) -> tuple[str, str]:
    """One typing slip in a short word: two neighbouring letters swapped, a letter doubled or one dropped."""
    while True:
        op = rng.choice(["transposed", "doubled", "dropped"])
        if op == "transposed":
            i = rng.randrange(1, len(word) - 1)  # the first letter is seldom the one mistyped
            typed = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif op == "doubled":
            i = rng.randrange(1, len(word))
            typed = word[:i] + word[i] + word[i:]
        else:
            i = rng.randrange(1, len(word))
            typed = word[:i] + word[i + 1 :]
        if typed.lower() != word.lower():
            return typed, op


def pasted_domain(rng: random.Random, domain: str) -> str:
    form = rng.choice(["{d}", "www.{d}", "https://www.{d}/", "http://{d}/contact", "WWW.{D}", "https://{d}/en/"])
    return form.format(d=domain, D=domain.upper())


def customer(
    rng: random.Random, name: str, country: str, domain: str | None, *, contact: str
) -> tuple[dict, dict | None]:
    """A registration's customer and contact. contact: "website", "corporate_mail", "free_mail" or "none"."""
    record: dict = {"name": name, "country": country}
    person = f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}"
    mail: dict | None = None
    if contact == "website" and domain:
        record["domain"] = pasted_domain(rng, domain)
        if rng.random() < 0.4:
            mail = {"name": "Buyer", "email": f"{person}@{domain}"}
    elif contact == "corporate_mail" and domain:
        mail = {"name": "Buyer", "email": f"{person}@{domain}"}
    elif contact == "free_mail" or rng.random() < 0.4:
        mail = {"name": "Buyer", "email": f"{person.replace('.', '')}{rng.randrange(1, 99)}@{rng.choice(FREE_MAIL)}"}
    return record, mail


def name_only_contact(rng: random.Random) -> str:
    return rng.choice(["none", "free_mail"])


def domain_contact(rng: random.Random) -> str:
    return rng.choice(["website", "website", "corporate_mail"])


def regional_tag_names(rng: random.Random, org: dict) -> list[tuple[str, str]]:
    """Tagged names for a name-only registration, each with a note on how the tag was written."""
    brand, country = org["brand"], org["country"]
    names = []
    for _ in range(rng.choice([1, 1, 2])):
        roll = rng.random()
        if roll < 0.45:
            tag, sep = rng.choice(REGION_TAGS[country]), rng.choice(["", ""] + SEPARATORS)
        elif roll < 0.75:
            tag, sep = rng.choice(DEPARTMENT_TAGS_ANY), rng.choice(["", ""] + SEPARATORS)
        else:
            tag, sep = rng.choice(DEPARTMENT_TAGS_SEPARATED), rng.choice(SEPARATORS)
        base = brand if rng.random() < 0.5 else org["name"]
        if sep == "":
            if rng.random() < 0.4 and base == brand:  # "Halma UK Limited", "Symrise Deutschland GmbH"
                names.append((with_legal_form(rng, f"{brand} {tag}", country), "tag+form"))
            else:
                names.append((f"{base} {tag}", "tag"))
        elif "{}" in sep:
            names.append((base + sep.format(tag), "parenthesis"))
        else:
            names.append((base + sep + tag, "separator"))
    return names


def registrations_regional(rng: random.Random, org: dict) -> list[tuple[dict, dict | None, str]]:
    regs = []
    plain = with_legal_form(rng, org["brand"], org["country"]) if rng.random() < 0.5 else org["name"]
    if rng.random() < 0.6:  # against the domain-bearing registration ...
        regs.append((*customer(rng, cased(rng, plain), org["country"], org["domain"], contact=domain_contact(rng)),
                     "plain+domain"))
    else:  # ... or against the plain name, name-only
        regs.append((*customer(rng, cased(rng, plain), org["country"], None, contact=name_only_contact(rng)),
                     "plain"))
    for tagged, note in regional_tag_names(rng, org):
        regs.append((*customer(rng, cased(rng, tagged), org["country"], None, contact=name_only_contact(rng)),
                     note))
    return regs


def registrations_slip(rng: random.Random, org: dict) -> list[tuple[dict, dict | None, str]]:
    name, country = org["name"], org["country"]
    correct = with_legal_form(rng, name, country)
    regs = [(*customer(rng, cased(rng, correct), country, org["domain"], contact=domain_contact(rng)), "domain")]
    typed, op = slipped(rng, name)
    regs.append((*customer(rng, cased(rng, with_legal_form(rng, typed, country)), country, None,
                           contact=name_only_contact(rng)), op))
    if rng.random() < 0.25:  # a second registration with the domain, e.g. by the contact's e-mail
        regs.append((*customer(rng, with_legal_form(rng, name, country), country, org["domain"],
                               contact="corporate_mail"), "domain"))
    return regs


def registrations_designator(rng: random.Random, org: dict) -> list[tuple[dict, dict | None, str]]:
    brand, country = org["brand"], org["country"]
    bare = with_legal_form(rng, brand, country) if rng.random() < 0.4 else brand
    designated = rng.choice(DESIGNATOR_FORMS).format(b=brand)
    # One side has no domain: either may be the one carrying it, or neither.
    roll = rng.random()
    bare_domain = org["domain"] if roll < 0.4 else None
    designated_domain = org["domain"] if 0.4 <= roll < 0.8 else None
    regs = [
        (*customer(rng, cased(rng, bare), country, bare_domain,
                   contact=domain_contact(rng) if bare_domain else name_only_contact(rng)), "bare"),
        (*customer(rng, cased(rng, designated), country, designated_domain,
                   contact=domain_contact(rng) if designated_domain else name_only_contact(rng)), "designated"),
    ]
    if rng.random() < 0.25:
        other = rng.choice(DESIGNATOR_FORMS).format(b=brand)
        regs.append((*customer(rng, cased(rng, other), country, None, contact=name_only_contact(rng)), "designated"))
    return regs


def short_form(name: str) -> str:
    """The name without its legal form, as partners often type it ("Marathon Oil" for "... Corporation")."""
    return re.sub(r",?\s+(Inc\.?|Incorporated|Corporation|Corp\.?|LLC|Ltd\.?|Limited|plc|PLC|AG|SE|SA|S\.A\.|"
                  r"N\.V\.|GmbH( & Co KG)?|Co\., Ltd\.|Oy|S\.A\.B\. de C\.V\.|Company, Limited|Company)$", "", name)


# Families of short names one letter apart: each member is registered under its bare name at least once, the
# form in which "Loews" and "Lowe's" or "Daikin" and "Daiken" are hardest to tell apart.
NEAR_MISS_FAMILIES = {"hama", "atos", "vale", "neste", "linde", "aviva", "bosch", "bauer", "daikin", "loews", "nokia",
                      "sage", "gartner", "intel", "marvel"}


def registrations_negative(rng: random.Random, org: dict) -> list[tuple[dict, dict | None, str]]:
    regs = []
    for n in range(rng.choice([1, 2])):
        if n == 0 and org["family"] in NEAR_MISS_FAMILIES:
            name = org["brand"]
        else:
            name = rng.choice([org["name"], short_form(org["name"]), org["brand"]])
        contact = domain_contact(rng) if org["domain"] and rng.random() < 0.6 else name_only_contact(rng)
        regs.append((*customer(rng, cased(rng, name), org["country"], org["domain"], contact=contact), "member"))
    return regs


def split_of(name: str) -> str:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return "holdout" if digest[0] / 256 < HOLDOUT_SHARE else "dev"


def main() -> None:
    rng = random.Random(SEED)
    short_names = parse_short_names()
    brands = parse_brands()
    rng.shuffle(brands)
    half = len(brands) // 2
    plan = ([("short_name_slip", org, registrations_slip) for org in short_names]
            + [("regional_tag", org, registrations_regional) for org in brands[:half]]
            + [("designator", org, registrations_designator) for org in brands[half:]]
            + [("negative", org, registrations_negative) for org in parse_families()])
    records, clusters, kinds, splits, organisations = [], {}, {}, {}, {}
    counter = 0
    for n, (kind, org, make) in enumerate(plan):
        org_id = f"hard{n:04d}"
        kinds[org_id] = kind
        splits[org_id] = split_of(org["name"])
        organisations[org_id] = {"name": org["name"], "country": org["country"], "kind": kind,
                                 **({"family": org["family"]} if "family" in org else {})}
        partners = rng.sample(PARTNERS, k=4)
        for i, (customer_record, contact, note) in enumerate(make(rng, org)):
            counter += 1
            record_id = f"h{counter:05d}"
            products = sorted({SHARED_PRODUCT, *rng.sample(OTHER_PRODUCTS, k=rng.choice([0, 0, 1]))})
            records.append({"id": record_id, "partner_key": partners[i % 4], "customer": customer_record,
                            "contact": contact, "products": products, "_note": note})
            clusters[record_id] = org_id
    rng.shuffle(records)
    with open(HERE / "matching_hard_cases.jsonl", "w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps({k: v for k, v in record.items() if not k.startswith("_")}, ensure_ascii=False)
                      + "\n")
    truth = {
        "format": "clusters: registration id -> organisation id (same id = same customer); kinds: organisation "
                  "id -> regional_tag | short_name_slip | designator | negative (negative organisations come in "
                  "families of different look-alike companies); split: organisation id -> dev | holdout; "
                  "notes: registration id -> how its name was written",
        "clusters": clusters,
        "kinds": kinds,
        "split": splits,
        "organisations": organisations,
        "notes": {record["id"]: record["_note"] for record in records},
    }
    (HERE / "matching_hard_cases_truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1),
                                                          encoding="utf-8")
    print(f"{len(organisations)} organisations, {len(records)} registrations")


if __name__ == "__main__":
    main()
