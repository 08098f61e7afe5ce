"""Generate the labelled same-customer matching set (tests/data/matching_registrations.jsonl + matching_truth.json).

Deterministic (fixed seed). Organisations come from companies.txt (curated real-world names) plus regional SMEs,
hospitals, universities and municipalities built from per-country word lists below; each organisation gets 1-4
registrations written the way partners paste them (legal-form variants, abbreviations, typos, accents, division
tags, acronyms with the real domain, free-mail contacts, name-only). Run: python tests/data/generate_matching_set.py
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20240611
PRODUCTS = ["edr-endpoint", "siem-cloud", "firewall-ngfw", "backup-suite", "email-security", "identity-sso"]
PARTNERS = [f"p{n:03d}" for n in range(1, 61)] + ["direct"]
HOLDOUT_SHARE = 0.3
FREE_MAIL = ["gmail.com", "outlook.com", "hotmail.com", "yahoo.com", "gmx.de", "web.de", "yahoo.co.jp", "orange.fr",
             "libero.it", "mail.ru", "qq.com", "163.com", "naver.com", "icloud.com", "proton.me", "t-online.de",
             "hotmail.fr", "live.co.uk", "yahoo.com.br", "rediffmail.com", "bigpond.com", "seznam.cz", "wp.pl"]
FIRST_NAMES = ["anna", "john", "maria", "li", "yuki", "carlos", "fatima", "lars", "olga", "priya", "tom", "sofia",
               "ahmed", "emma", "kenji", "lucas", "chloe", "marek", "ines", "david"]
LAST_NAMES = ["smith", "muller", "rossi", "garcia", "tanaka", "kim", "novak", "jensen", "silva", "dubois", "khan",
              "ivanova", "patel", "brown", "virtanen", "kowalski"]

SME_PARTS: dict[str, dict] = {
    "DE": {"names": ["Schneider", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Schäfer", "Koch", "Bauer",
                     "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Zimmermann", "Krüger", "Hartmann", "Köhler"],
           "trades": ["Haustechnik", "Elektrotechnik", "Metallbau", "Logistik", "Softwareentwicklung",
                      "Bauunternehmung", "Druckerei", "Steuerberatung", "Landtechnik", "Dachdeckerei"],
           "forms": ["GmbH", "GmbH & Co. KG", "AG", "KG", "UG (haftungsbeschränkt)"], "tld": "de",
           "pattern": "{n} {t} {f}"},
    "AT": {"names": ["Gruber", "Huber", "Bauer", "Wagner", "Pichler", "Steiner", "Moser", "Mayer", "Hofer"],
           "trades": ["Installationen", "Holzbau", "Transporte", "Elektro", "Reisen"],
           "forms": ["GmbH", "Ges.m.b.H.", "KG", "AG"], "tld": "at", "pattern": "{n} {t} {f}"},
    "CH": {"names": ["Müller", "Meier", "Schmid", "Keller", "Weber", "Huber", "Brunner", "Baumann"],
           "trades": ["Treuhand", "Präzisionsmechanik", "Informatik", "Gartenbau", "Immobilien"],
           "forms": ["AG", "GmbH", "SA", "Sàrl"], "tld": "ch", "pattern": "{n} {t} {f}"},
    "FR": {"names": ["Dupont", "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux",
                     "Fournier", "Mercier", "Faure", "Chevalier", "Rousseau"],
           "trades": ["Boulangerie", "Transports", "Menuiserie", "Électricité", "Informatique", "Bâtiment",
                      "Imprimerie", "Plomberie", "Expertise Comptable"],
           "forms": ["SARL", "SAS", "S.A.", "EURL"], "tld": "fr", "pattern": "{t} {n} {f}"},
    "IT": {"names": ["Rossi", "Russo", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
                     "Bruno", "Gallo", "Conti", "De Luca", "Mancini"],
           "trades": ["Costruzioni", "Trasporti", "Impianti Elettrici", "Meccanica", "Arredamenti", "Informatica",
                      "Serramenti", "Autoricambi"],
           "forms": ["S.r.l.", "S.p.A.", "S.n.c.", "Srl"], "tld": "it", "pattern": "{n} {t} {f}"},
    "ES": {"names": ["García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
                     "Gómez", "Ruiz", "Jiménez", "Muñoz"],
           "trades": ["Construcciones", "Transportes", "Instalaciones Eléctricas", "Talleres", "Distribuciones",
                      "Asesoría", "Carpintería"],
           "forms": ["S.L.", "S.A.", "S.L.U.", "SL"], "tld": "es", "pattern": "{t} {n} {f}"},
    "NL": {"names": ["de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
                     "Mulder", "de Groot", "Bos"],
           "trades": ["Installatietechniek", "Transport", "Bouwbedrijf", "Automatisering", "Logistiek",
                      "Schilderwerken"],
           "forms": ["B.V.", "BV", "N.V.", "V.O.F."], "tld": "nl", "pattern": "{n} {t} {f}"},
    "SE": {"names": ["Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
                     "Svensson", "Gustafsson"],
           "trades": ["Bygg", "Elektriska", "Åkeri", "Fastigheter", "Konsult", "Mekaniska Verkstad"],
           "forms": ["AB", "Aktiebolag", "AB (publ)"], "tld": "se", "pattern": "{n}s {t} {f}"},
    "DK": {"names": ["Hansen", "Jensen", "Nielsen", "Pedersen", "Andersen", "Larsen", "Sørensen", "Rasmussen"],
           "trades": ["Byg", "Transport", "El-service", "VVS", "Maskinfabrik"],
           "forms": ["A/S", "ApS", "AS"], "tld": "dk", "pattern": "{n}s {t} {f}"},
    "FI": {"names": ["Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen"],
           "trades": ["Rakennus", "Kuljetus", "Sähkö", "Konepaja", "Kiinteistöpalvelu"],
           "forms": ["Oy", "Oyj", "Ab Oy"], "tld": "fi", "pattern": "{t} {n} {f}"},
    "PL": {"names": ["Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
                     "Zieliński", "Szymański", "Woźniak"],
           "trades": ["Budownictwo", "Transport", "Instalacje", "Informatyka", "Meble", "Usługi Księgowe"],
           "forms": ["Sp. z o.o.", "S.A.", "Sp. j.", "sp. z o.o."], "tld": "pl", "pattern": "{t} {n} {f}"},
    "GB": {"names": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Robinson", "Wright",
                     "Thompson", "Evans", "Walker", "Hughes", "Ashworth"],
           "trades": ["Plumbing", "Builders", "Engineering", "Logistics", "Accountants", "Electrical", "Joinery",
                      "Surveyors", "Haulage"],
           "forms": ["Ltd", "Limited", "LLP", "& Sons Ltd", "Ltd."], "tld": "co.uk", "pattern": "{n} {t} {f}"},
    "IE": {"names": ["Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Brien", "Byrne", "Ryan", "O'Connor"],
           "trades": ["Construction", "Motors", "Engineering", "Pharmacy", "Solicitors"],
           "forms": ["Ltd", "Limited", "DAC", "Teoranta"], "tld": "ie", "pattern": "{n} {t} {f}"},
    "US": {"names": ["Miller", "Davis", "Rodriguez", "Anderson", "Thomas", "Jackson", "Harris", "Clark",
                     "Lewis", "Whitaker", "Kowalczyk", "Nguyen", "Okafor"],
           "trades": ["Plumbing", "Construction", "Landscaping", "Logistics", "Dental Group", "Law Group",
                      "Roofing", "HVAC Services", "Auto Body", "Insurance Agency"],
           "forms": ["Inc.", "LLC", "Corp.", "Co.", "L.L.C.", "Incorporated"], "tld": "com",
           "pattern": "{n} {t} {f}"},
    "JP": {"names": ["Tanaka", "Suzuki", "Takahashi", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi",
                     "Kato", "Yoshida", "Yamada"],
           "trades": ["Seiki", "Kogyo", "Shoji", "Kensetsu", "Denki", "Unyu", "Seisakusho"],
           "forms": ["Co., Ltd.", "K.K.", "Kabushiki Kaisha", "Co. Ltd"], "tld": "co.jp", "pattern": "{n} {t} {f}"},
    "BR": {"names": ["Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida",
                     "Nascimento", "Carvalho"],
           "trades": ["Construtora", "Transportes", "Comércio de Alimentos", "Engenharia", "Informática",
                      "Metalúrgica"],
           "forms": ["Ltda.", "S.A.", "EIRELI", "Ltda"], "tld": "com.br", "pattern": "{t} {n} {f}"},
    "MX": {"names": ["Hernández", "García", "Martínez", "López", "González", "Ramírez", "Flores", "Torres"],
           "trades": ["Constructora", "Transportes", "Autopartes", "Alimentos", "Servicios Logísticos"],
           "forms": ["S.A. de C.V.", "S. de R.L. de C.V.", "SA de CV"], "tld": "com.mx", "pattern": "{t} {n} {f}"},
    "IN": {"names": ["Sharma", "Patel", "Gupta", "Agarwal", "Reddy", "Iyer", "Mehta", "Joshi", "Nair", "Kapoor"],
           "trades": ["Infotech", "Textiles", "Pharma", "Engineering Works", "Logistics", "Agro Industries"],
           "forms": ["Pvt Ltd", "Private Limited", "Ltd", "Pvt. Ltd."], "tld": "co.in", "pattern": "{n} {t} {f}"},
    "TR": {"names": ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Öztürk", "Aydın", "Özdemir"],
           "trades": ["İnşaat", "Tekstil", "Gıda", "Lojistik", "Otomotiv", "Makina"],
           "forms": ["A.Ş.", "Ltd. Şti.", "San. ve Tic. A.Ş."], "tld": "com.tr", "pattern": "{n} {t} {f}"},
    "AU": {"names": ["Nguyen", "Smith", "Walsh", "Campbell", "Mitchell", "Kelly", "Harrison", "Fraser"],
           "trades": ["Electrical", "Earthmoving", "Plumbing", "Accounting", "Freight"],
           "forms": ["Pty Ltd", "Pty. Ltd.", "Pty Limited"], "tld": "com.au", "pattern": "{n} {t} {f}"},
    "KR": {"names": ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon"],
           "trades": ["Precision", "Chemical", "Logistics", "Electronics", "Construction"],
           "forms": ["Co., Ltd.", "Corp.", "Inc."], "tld": "co.kr", "pattern": "{n} {t} {f}"},
}

INSTITUTIONS: dict[str, dict] = {
    "US": {"cities": ["Austin", "Boston", "Denver", "Phoenix", "Portland", "Raleigh", "Tucson", "Omaha"],
           "templates": [("City of {c}", "{s}.gov"), ("{c} General Hospital", "{s}general.org"),
                         ("University of {c}", "{s}.edu"), ("{c} Public Schools", "{s}schools.org")]},
    "GB": {"cities": ["Leeds", "Leicester", "Bristol", "Sheffield", "Nottingham", "Coventry", "Brighton"],
           "templates": [("{c} City Council", "{s}.gov.uk"), ("University of {c}", "{s}.ac.uk"),
                         ("{c} Teaching Hospitals NHS Trust", "{s}hospitals.nhs.uk")]},
    "DE": {"cities": ["Augsburg", "Köln", "Münster", "Würzburg", "Freiburg", "Lübeck", "Düsseldorf"],
           "templates": [("Stadt {c}", "{s}.de"), ("Universität {c}", "uni-{s}.de"),
                         ("Klinikum {c}", "klinikum-{s}.de"), ("Stadtwerke {c} GmbH", "stadtwerke-{s}.de")]},
    "FR": {"cities": ["Lyon", "Toulouse", "Nantes", "Bordeaux", "Grenoble", "Rennes", "Montpellier"],
           "templates": [("Ville de {c}", "{s}.fr"), ("Université de {c}", "univ-{s}.fr"),
                         ("Centre Hospitalier Universitaire de {c}", "chu-{s}.fr")]},
    "IT": {"cities": ["Bologna", "Torino", "Padova", "Firenze", "Genova", "Verona"],
           "templates": [("Comune di {c}", "comune.{s}.it"), ("Università degli Studi di {c}", "uni{s}.it"),
                         ("Azienda Ospedaliera di {c}", "ao{s}.it")]},
    "ES": {"cities": ["Sevilla", "Valencia", "Zaragoza", "Málaga", "Bilbao", "Córdoba"],
           "templates": [("Ayuntamiento de {c}", "{s}.es"), ("Universidad de {c}", "u{s}.es"),
                         ("Hospital Universitario de {c}", "hu{s}.es")]},
    "NL": {"cities": ["Utrecht", "Eindhoven", "Groningen", "Tilburg", "Leiden"],
           "templates": [("Gemeente {c}", "{s}.nl"), ("Universiteit {c}", "u{s}.nl")]},
    "SE": {"cities": ["Uppsala", "Malmö", "Göteborg", "Linköping", "Umeå"],
           "templates": [("{c} kommun", "{s}.se"), ("{c} universitet", "{s}u.se")]},
    "JP": {"cities": ["Osaka", "Nagoya", "Sapporo", "Fukuoka", "Kobe"],
           "templates": [("{c} University", "{s}-u.ac.jp"), ("{c} City Hospital", "{s}-hosp.jp")]},
    "AU": {"cities": ["Brisbane", "Adelaide", "Perth", "Hobart", "Geelong"],
           "templates": [("City of {c}", "{s}.gov.au"), ("{c} Hospital and Health Service", "{s}health.org.au")]},
}

# English SME names that exist as unrelated companies in several countries (namesakes, not one customer).
NAMESAKES = ["Summit Engineering", "Pinnacle Software", "Horizon Logistics", "Atlas Construction",
             "Phoenix Consulting", "Evergreen Landscaping", "Northstar Dental", "Silverline Freight",
             "Bluewater Marine", "Redwood Analytics", "Keystone Plumbing", "Brightpath Education",
             "Ironbridge Capital", "Crescent Pharmacy", "Oakridge Builders", "Sterling Accountants",
             "Lighthouse Medical", "Granite Surveyors", "Harbourview Hotels", "Falcon Security"]
NAMESAKE_COUNTRIES = [("GB", "co.uk", "Ltd"), ("US", "com", "Inc."), ("AU", "com.au", "Pty Ltd"),
                      ("CA", "ca", "Inc."), ("IE", "ie", "Limited"), ("NZ", "co.nz", "Limited"),
                      ("ZA", "co.za", "(Pty) Ltd"), ("IN", "in", "Pvt Ltd"), ("SG", "com.sg", "Pte. Ltd.")]

LEGAL_ALTERNATIVES = {
    "US": ["Inc.", "Inc", "Incorporated", "Corp.", "Corporation", "LLC", "Co.", ""],
    "GB": ["Ltd", "Limited", "plc", "PLC", "Ltd.", ""], "IE": ["Ltd", "Limited", "plc", ""],
    "DE": ["GmbH", "AG", "SE", "Aktiengesellschaft", ""], "AT": ["GmbH", "AG", ""], "CH": ["AG", "SA", "Ltd", ""],
    "FR": ["S.A.", "SA", "SAS", "SE", ""], "IT": ["S.p.A.", "SpA", "S.r.l.", ""], "ES": ["S.A.", "SA", "S.L.", ""],
    "NL": ["N.V.", "NV", "B.V.", ""], "BE": ["SA/NV", "NV", "SA", ""], "SE": ["AB", "AB (publ)", ""],
    "NO": ["ASA", "AS", ""], "DK": ["A/S", "AS", ""], "FI": ["Oyj", "Oy", ""], "PL": ["S.A.", "Sp. z o.o.", ""],
    "JP": ["Co., Ltd.", "Corporation", "K.K.", "Ltd.", ""], "KR": ["Co., Ltd.", "Corp.", ""],
    "CN": ["Co., Ltd.", "Limited", ""], "IN": ["Limited", "Ltd", "Pvt Ltd", ""], "BR": ["S.A.", "Ltda", ""],
    "MX": ["S.A.B. de C.V.", "S.A. de C.V.", ""], "AU": ["Limited", "Ltd", "Pty Ltd", ""], "TR": ["A.Ş.", "AS", ""],
}
ABBREVIATE = [("International", "Intl"), ("Corporation", "Corp"), ("Services", "Svcs"), ("Manufacturing", "Mfg"),
              ("Technologies", "Tech"), ("Technology", "Tech"), ("Systems", "Sys"), ("Holdings", "Hldgs"),
              ("Group", "Grp"), ("Management", "Mgmt"), ("Brothers", "Bros"), ("National", "Natl"),
              ("University", "Univ"), ("Company", "Co"), ("Associates", "Assoc"), ("Laboratories", "Labs"),
              ("Department", "Dept"), ("Industries", "Inds"), ("Pharmaceuticals", "Pharma")]
DIVISION_TAGS = {"default": [" - EMEA", " (EMEA)", " – North America", " - APAC", " (Headquarters)",
                             ", Regional Office", " - LATAM"],
                 "DE": [" (Deutschland)", " - Niederlassung München", " (Germany)"],
                 "GB": [", UK Branch", " (UK)", " - UK & Ireland"], "US": [" - North America", " (USA)"],
                 "FR": [" (France)", " - Succursale de Lyon"], "JP": [" (Japan)"], "IN": [" - India Branch"]}
TAX_PREFIX = {"DE": "DE", "AT": "ATU", "FR": "FR", "IT": "IT", "ES": "ES", "NL": "NL", "BE": "BE", "SE": "SE",
              "DK": "DK", "FI": "FI", "PL": "PL", "GB": "GB", "IE": "IE", "PT": "PT", "GR": "EL", "CZ": "CZ",
              "HU": "HU", "LU": "LU", "CH": "CHE"}


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ı", "i"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def load_curated() -> list[dict]:
    organisations = []
    for line in (HERE / "companies.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split("|")]
        name, domain, country = parts[0], parts[1], parts[2]
        organisations.append({"name": name, "domain": None if domain == "-" else domain, "country": country,
                              "acronym": parts[3] if len(parts) > 3 and parts[3] else None, "kind": "curated"})
    return organisations


def build_smes(rng: random.Random) -> list[dict]:
    organisations = []
    for country, parts in SME_PARTS.items():
        names = parts["names"][:]
        rng.shuffle(names)
        used = set()
        # Some surnames get two trades on purpose: same first word, different companies.
        for i in range(min(len(names) + 4, 16)):
            name = names[i % len(names)]
            trade = rng.choice(parts["trades"])
            if (name, trade) in used:
                continue
            used.add((name, trade))
            form = rng.choice(parts["forms"])
            full = parts["pattern"].format(n=name, t=trade, f=form)
            domain = f"{slug(name)}-{slug(trade)}.{parts['tld']}" if rng.random() < 0.6 else None
            organisations.append({"name": full, "domain": domain, "country": country, "acronym": None,
                                  "kind": "sme"})
    for country, spec in INSTITUTIONS.items():
        for city in spec["cities"]:
            for template, domain_template in rng.sample(spec["templates"], k=min(2, len(spec["templates"]))):
                organisations.append({"name": template.format(c=city),
                                      "domain": domain_template.format(s=slug(city)) if rng.random() < 0.75 else None,
                                      "country": country, "acronym": None, "kind": "institution"})
    for base in NAMESAKES:
        for country, tld, form in rng.sample(NAMESAKE_COUNTRIES, k=2):
            organisations.append({"name": f"{base} {form}",
                                  "domain": f"{slug(base)}.{tld}" if rng.random() < 0.5 else None,
                                  "country": country, "acronym": None, "kind": "namesake"})
    return organisations


def typo(rng: random.Random, name: str) -> str:
    words = name.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not candidates:
        return name
    i = rng.choice(candidates)
    w = words[i]
    p = rng.randrange(1, len(w) - 1)
    op = rng.choice(["swap", "drop", "double", "replace"])
    if op == "swap":
        w = w[:p] + w[p + 1] + w[p] + w[p + 2 :]
    elif op == "drop":
        w = w[:p] + w[p + 1 :]
    elif op == "double":
        w = w[:p] + w[p] + w[p:]
    else:
        w = w[:p] + rng.choice("aeiournst") + w[p + 1 :]
    words[i] = w
    return " ".join(words)


def strip_accents(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def german_transliteration(text: str) -> str:
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "Ae"), ("Ö", "Oe"), ("Ü", "Ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return text


def replace_legal_form(rng: random.Random, name: str, country: str) -> str:
    # Crude on purpose: partners do exactly this.
    base = re.sub(r"(,?\s+(Inc\.?|Incorporated|Corporation|Corp\.?|LLC|L\.L\.C\.|Ltd\.?|Limited|plc|PLC|p\.l\.c\.|"
                  r"Co\.,?|Co|Pty\.?|\(Pty\)|Pvt\.?|Private|Pte\.?|GmbH|AG|SE|S\.A\.|SA|N\.V\.|B\.V\.|BV|NV|S\.p\.A\.|"
                  r"S\.r\.l\.|Srl|AB|ASA|A/S|ApS|Oyj|Oy|Aktiengesellschaft|S\.A\.B\.|de C\.V\.|S\.L\.|SL|Ltda\.?|"
                  r"[Ss]p\. z o\.o\.|K\.K\.|Kabushiki Kaisha|A\.Ş\.|SAS|SARL|EURL|KG|& Co\.|\(publ\)|Tbk|PJSC))+$",
                  "", name)
    alternatives = LEGAL_ALTERNATIVES.get(country, ["Ltd", "Inc.", ""])
    form = rng.choice(alternatives)
    return f"{base} {form}".strip() if form else base


def name_variant(rng: random.Random, org: dict, has_domain: bool) -> tuple[str, list[str]]:
    name, country = org["name"], org["country"]
    ops: list[str] = []
    if org["acronym"] and has_domain and rng.random() < 0.35:
        form = rng.choice(LEGAL_ALTERNATIVES.get(country, [""]))
        return (f"{org['acronym']} {form}".strip(), ["acronym"])
    first_word = name.split()[0].strip(",")
    if (has_domain and org["kind"] == "curated" and rng.random() < 0.08 and len(name.split()) >= 3
            and slug(first_word) in slug(org["domain"] or "")):
        return (first_word, ["short_name"])  # "Ericsson" for "Telefonaktiebolaget LM Ericsson" + ericsson.com
    chosen = rng.sample(["legal", "case", "amp", "the", "accents", "typo", "division", "abbrev", "punct",
                         "drop_generic"], k=rng.choice([1, 1, 2, 2, 3]))
    if "division" in chosen:  # partners append the tag to whatever they typed
        chosen.remove("division")
        chosen.append("division")
    for op in chosen:
        before = name
        if op == "legal":
            name = replace_legal_form(rng, name, country)
        elif op == "case":
            name = rng.choice([name.upper(), name.lower(), name.title()])
        elif op == "amp":
            name = name.replace(" & ", " and ") if " & " in name else name.replace(" and ", " & ")
        elif op == "the":
            name = name[4:] if name.startswith("The ") else "The " + name
        elif op == "accents":
            name = german_transliteration(name) if country in ("DE", "AT", "CH") else strip_accents(name)
        elif op == "typo":
            name = typo(rng, name)
        elif op == "division":
            name = name + rng.choice(DIVISION_TAGS.get(country, []) + DIVISION_TAGS["default"])
        elif op == "abbrev":
            for long, short in rng.sample(ABBREVIATE, len(ABBREVIATE)):
                if long in name:
                    name = name.replace(long, short + rng.choice(["", "."]))
                    break
        elif op == "punct":
            name = rng.choice([name.replace(".", ""), name.replace(",", ""), name.replace("-", " ")])
        elif op == "drop_generic":
            name = re.sub(r"\s(Group|Holdings?|Company)(?=(\s|,|$))", "", name, count=1)
        if name != before:
            ops.append(op)
    return name, ops


def pasted_domain(rng: random.Random, domain: str) -> str:
    form = rng.choice(["{d}", "www.{d}", "https://www.{d}/", "http://{d}/contact", "{D}", "https://shop.{d}",
                       "https://{d}/en-us/about", "WWW.{D}"])
    return form.format(d=domain, D=domain.upper())


def tax_id_for(rng: random.Random, country: str) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(9))
    if country == "US":
        return f"{digits[:2]}-{digits[2:]}"
    return TAX_PREFIX.get(country, "") + digits


def formatted_tax(rng: random.Random, tax: str) -> str:
    choice = rng.random()
    if choice < 0.3:
        return " ".join(tax[i : i + 3] for i in range(0, len(tax), 3))
    if choice < 0.45 and tax[:2].isalpha():
        return tax[2:] if not tax[:3].isalpha() else tax[3:]
    if choice < 0.6:
        return tax.lower()
    return tax


def formatted_duns(rng: random.Random, duns: str) -> str:
    return rng.choice([duns, f"{duns[:2]}-{duns[2:5]}-{duns[5:]}", f"{duns[:3]} {duns[3:6]} {duns[6:]}"])


def registrations_for(rng: random.Random, org: dict, org_id: str, reg_counter: list[int]) -> list[dict]:
    count = rng.choices([1, 2, 3, 4], weights=[30, 38, 22, 10])[0]
    core = rng.choice(PRODUCTS)
    partners = rng.sample(PARTNERS, k=count)
    if count > 1 and rng.random() < 0.1:
        partners[1] = partners[0]  # same partner registering the customer twice
    records = []
    for n in range(count):
        domain = org["domain"]
        evidence = rng.random()
        website = domain if domain and evidence < 0.55 else None
        corporate_mail = domain and (evidence >= 0.55 and evidence < 0.75 or (website and rng.random() < 0.4))
        country = org["country"]
        if n > 0 and org["kind"] == "curated" and rng.random() < 0.08:
            country = rng.choice(["US", "GB", "DE", "FR", "JP", "SG", "BR", "IN", "AU", "NL"])
            if domain and not (website or corporate_mail):
                website = domain  # another country's subsidiary is registered with the group domain
        has_domain = bool(website or corporate_mail)
        name, ops = (org["name"], []) if n == 0 and rng.random() < 0.5 else name_variant(rng, org, has_domain)
        if corporate_mail:
            host = domain if rng.random() < 0.8 else f"{country.lower()}.{domain}"
            email = f"{rng.choice(FIRST_NAMES)}.{rng.choice(LAST_NAMES)}@{host}"
        elif rng.random() < 0.45:
            email = f"{rng.choice(FIRST_NAMES)}{rng.randrange(1, 99)}@{rng.choice(FREE_MAIL)}"
        else:
            email = None
        customer: dict = {"name": name, "country": country}
        if website:
            customer["domain"] = pasted_domain(rng, website)
        if org.get("tax_id") and rng.random() < 0.3:
            customer["tax_id"] = formatted_tax(rng, org["tax_id"])
        if org.get("duns") and rng.random() < 0.25:
            customer["duns"] = formatted_duns(rng, org["duns"])
        contact = None if email is None and rng.random() < 0.5 else {"name": "Buyer", "email": email}
        products = {core} | set(rng.sample(PRODUCTS, k=rng.choice([0, 0, 1, 2])))
        reg_counter[0] += 1
        records.append({"id": f"r{reg_counter[0]:05d}", "partner_key": partners[n], "customer": customer,
                        "contact": contact, "products": sorted(products), "_org": org_id, "_variant": ops})
    return records


def split_of(org: dict) -> str:
    digest = hashlib.sha256(org["name"].encode("utf-8")).digest()
    return "holdout" if digest[0] / 256 < HOLDOUT_SHARE else "dev"


def main() -> None:
    rng = random.Random(SEED)
    organisations = load_curated() + build_smes(rng)
    for org in organisations:
        if rng.random() < 0.6:
            org["tax_id"] = tax_id_for(rng, org["country"])
        if rng.random() < 0.4:
            org["duns"] = "".join(rng.choice("0123456789") for _ in range(9))
    counter = [0]
    records, clusters, splits = [], {}, {}
    for i, org in enumerate(organisations):
        org_id = f"org{i:04d}"
        splits[org_id] = split_of(org)
        for record in registrations_for(rng, org, org_id, counter):
            clusters[record["id"]] = org_id
            records.append(record)
    rng.shuffle(records)
    with open(HERE / "matching_registrations.jsonl", "w", encoding="utf-8") as out:
        for record in records:
            record = {k: v for k, v in record.items() if not k.startswith("_")}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    truth = {
        "format": "clusters: registration id -> organisation id (same id = same customer); "
                  "split: organisation id -> 'dev' (looked at while tuning) or 'holdout' (never inspected)",
        "clusters": clusters,
        "split": splits,
        "organisations": {f"org{i:04d}": {"name": o["name"], "country": o["country"], "kind": o["kind"]}
                          for i, o in enumerate(organisations)},
    }
    (HERE / "matching_truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{len(organisations)} organisations, {len(records)} registrations")


if __name__ == "__main__":
    main()
