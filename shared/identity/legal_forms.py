"""Data table of company legal forms (ISO 20275-style abbreviations and spelled-out forms).

Written as pasted; names.py folds them with the same rules as company names, so "S.p.A.", "SpA" and
"S P A" all become one entry. Suffix forms are stripped from the end of a name, prefix forms from the start.
"""

from __future__ import annotations

# Jurisdiction -> forms. The jurisdiction is informational only (a form is stripped wherever it appears),
# because partners paste names without reliable countries and many forms are shared across borders.
LEGAL_FORM_SUFFIXES: dict[str, tuple[str, ...]] = {
    "common-law": (
        "Inc", "Inc.", "Incorporated", "Corp", "Corp.", "Corporation", "Co", "Co.", "Company", "Cos",
        "Companies", "LLC", "L.L.C.", "Ltd", "Ltd.", "Limited", "PLC", "P.L.C.", "Public Limited Company",
        "LLP", "L.L.P.", "LP", "L.P.", "LLLP", "PLLC", "P.C.", "PC", "Co. Ltd.", "Co., Ltd.", "Co Limited",
        "Company Limited", "Limited Company", "Ltd. Co.", "Limited Liability Company",
        "Limited Partnership", "Limited Liability Partnership", "ULC", "CIC",
        "Incorporated Company", "Corp. Ltd.", "Corporation Limited",
    ),
    "AU/NZ/ZA/SG/MY/IN": (
        "Pty", "Pty Ltd", "Pty. Ltd.", "(Pty) Ltd", "Pty Limited", "Proprietary Limited", "NL",
        "Pvt Ltd", "Pvt. Ltd.", "Private Limited", "Pvt", "Pte Ltd", "Pte. Ltd.", "Pte",
        "Private Ltd", "Sdn Bhd", "Sdn. Bhd.", "Bhd", "Berhad", "SOC Ltd", "NPC", "Ltd Pty",
    ),
    "DE/AT/CH/LI": (
        "GmbH", "mbH", "Ges.m.b.H.", "GesmbH", "AG", "KG", "KGaA", "OHG", "GbR", "UG",
        "UG (haftungsbeschränkt)", "UG haftungsbeschränkt", "GmbH & Co. KG", "GmbH & Co KG",
        "GmbH & Co. KGaA", "AG & Co. KG", "AG & Co. KGaA", "SE & Co. KGaA", "e.V.", "eV", "eG",
        "Aktiengesellschaft", "Gesellschaft mit beschränkter Haftung", "Kommanditgesellschaft", "Sagl",
    ),
    "EU": ("SE", "SCE", "EEIG", "EWIV"),
    "FR/BE/LU/CH": (
        "SA", "S.A.", "SAS", "S.A.S.", "SASU", "SARL", "S.A.R.L.", "S.à r.l.", "EURL", "SCA", "SNC",
        "SCI", "SCS", "SCOP", "SPRL", "SRL", "Société Anonyme", "Société par actions simplifiée",
        "Societe a responsabilite limitee",
    ),
    "ES/LatAm": (
        "S.L.", "SL", "S.L.U.", "SLU", "S.A.U.", "SAU", "S.A. de C.V.", "SA de CV", "S.A.B. de C.V.",
        "SAB de CV", "S. de R.L. de C.V.", "S de RL de CV", "S. de R.L.", "S de RL", "de C.V.",
        "Ltda", "Ltda.", "S.R.L.", "SRL", "SAC", "S.A.C.", "SAA", "S.A.A.", "EIRL", "SpA", "S.p.A.",
        "Sociedad Anónima", "Sociedad Limitada", "S.A.S", "SAIC", "S.A.I.C.", "SACI",
    ),
    "IT": ("S.p.A.", "SpA", "S.r.l.", "Srl", "S.r.l.s.", "Srls", "S.a.p.a.", "S.a.s.", "S.n.c.",
           "Società per Azioni", "Società a responsabilità limitata", "Soc. Coop.", "Scarl", "S.c.a.r.l."),
    "PT/BR": ("Lda", "Lda.", "S/A", "Ltda", "EPP", "EIRELI", "S.A."),
    "NL/BE": ("N.V.", "NV", "B.V.", "BV", "V.O.F.", "VOF", "C.V.", "CV", "BVBA", "B.V.B.A.", "CVBA",
              "Besloten Vennootschap", "Naamloze Vennootschap", "Holding B.V."),
    "Nordics": ("AB", "AB (publ)", "AB publ", "publ", "ASA", "AS", "A/S", "ApS", "I/S", "P/S", "Oy", "Oyj",
                "Ab Oy", "Oy Ab", "hf", "hf.", "ehf", "ehf.", "Aktiebolag", "Aktieselskab",
                "Osakeyhtiö", "Anpartsselskab", "Allmennaksjeselskap", "Aksjeselskap", "SA"),
    "PL/CZ/SK/HU/RO/Balkans": (
        "Sp. z o.o.", "Sp. z.o.o.", "Sp z oo", "Spółka z o.o.", "Spółka z ograniczoną odpowiedzialnością",
        "Sp. j.", "Sp. k.", "S.K.A.", "S.A.", "s.r.o.", "spol. s r.o.", "a.s.", "v.o.s.", "k.s.",
        "Kft", "Kft.", "Zrt", "Zrt.", "Nyrt", "Nyrt.", "Bt", "Bt.", "Rt", "S.R.L.", "d.o.o.", "d.d.",
        "a.d.", "OOD", "EOOD", "AD", "EAD", "UAB", "AB", "SIA", "AS", "OÜ", "OU", "d.o.o.e.l.",
    ),
    "GR/CY/TR/IL": ("A.E.", "AE", "E.P.E.", "EPE", "IKE", "A.Ş.", "AS", "Ltd. Şti.", "Ltd Sti",
                    "Sti", "Anonim Şirketi", "Limited Şirketi", "San. ve Tic. A.Ş.", "San ve Tic AS",
                    "Sanayi ve Ticaret A.Ş."),
    "RU/UA/CIS": ("Joint Stock Company", "Public Joint Stock Company", "Open Joint Stock Company",
                  "Closed Joint Stock Company", "OOO", "ZAO", "OAO", "PAO", "AO", "PJSC", "OJSC", "CJSC", "JSC", "TOV",
                  "TOO", "LLC"),
    "JP/KR/CN/TW/HK": ("K.K.", "KK", "Kabushiki Kaisha", "Kabushikigaisha", "Kabushiki Gaisha", "G.K.",
                       "GK", "Godo Kaisha", "Yugen Kaisha", "Y.K.", "Co., Ltd.", "Co. Ltd", "Ltd.",
                       "Company Limited", "Corp.", "Co.,Ltd"),
    "SEA": ("Tbk", "Tbk.", "PCL", "Public Company Limited", "Public Co. Ltd.", "Persero", "(Persero) Tbk",
            "JSC", "Inc.", "Corp."),
    "IE/UK": ("DAC", "CLG", "Teoranta", "Teo", "Cyf", "Cyfyngedig", "Limited by Guarantee"),
}

# Forms that lead the name ("PT Bank Central Asia", "OOO Gazprom Neft", "Kabushiki Kaisha Toshiba").
LEGAL_FORM_PREFIXES: tuple[str, ...] = (
    "PT", "P.T.", "CV", "OOO", "ZAO", "OAO", "PAO", "AO", "PJSC", "OJSC", "CJSC", "JSC", "TOV", "TOO",
    "Kabushiki Kaisha", "KK", "K.K.", "UAB", "SIA", "AS",
)
