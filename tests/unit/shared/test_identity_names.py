"""Company-name normalisation: folding, legal forms, abbreviations, division tags."""

import pytest

from shared.identity import normalise_name


def tokens(name):
    return normalise_name(name).tokens


def test_case_accents_and_punctuation_fold():
    assert normalise_name("SOCIÉTÉ GÉNÉRALE").folded == "societe generale"
    assert tokens("Nestlé") == tokens("NESTLE") == ("nestle",)
    assert tokens("Coca-Cola") == ("coca", "cola")
    assert tokens("McDonald's") == ("mcdonalds",)


def test_german_umlaut_spellings_agree():
    assert tokens("Müller & Söhne GmbH") == tokens("Mueller and Soehne") == tokens("Muller und Sohne")


def test_special_letters_fold():
    assert tokens("Ørsted A/S") == ("orsted",)
    assert tokens("Straße Łódź") == ("strasse", "lodz")


def test_ampersand_reads_as_and():
    assert normalise_name("Marks & Spencer").folded == "marks and spencer"
    assert tokens("Marks & Spencer") == tokens("Marks and Spencer") == ("marks", "spencer")


def test_leading_the_is_removed():
    assert normalise_name("The Boeing Company").folded == "boeing"
    assert tokens("THE HOME DEPOT, INC.") == ("home", "depot")


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("Acme Inc.", "inc"), ("Acme Corp", "corp"), ("Acme Corporation", "corporation"), ("Acme, LLC", "llc"),
        ("Acme Ltd", "ltd"), ("Acme Limited", "limited"), ("Acme plc", "plc"), ("Acme PLC", "plc"),
        ("Acme GmbH", "gmbh"), ("Acme AG", "ag"), ("Acme SE", "se"), ("Acme S.A.", "sa"), ("Acme SA", "sa"),
        ("Acme N.V.", "nv"), ("Acme B.V.", "bv"), ("Acme Oyj", "oyj"), ("Acme Oy", "oy"), ("Acme AB", "ab"),
        ("Acme ASA", "asa"), ("Acme A/S", "as"), ("Acme S.p.A.", "spa"), ("Acme S.r.l.", "srl"),
        ("Acme K.K.", "kk"), ("Acme Kabushiki Kaisha", "kabushiki kaisha"), ("Acme Co.", "co"),
        ("Acme Co., Ltd.", "co ltd"), ("Acme Pty Ltd", "pty ltd"), ("Acme (Pty) Ltd", "pty ltd"),
        ("Acme Pvt Ltd", "pvt ltd"), ("Acme SAS", "sas"), ("Acme SARL", "sarl"), ("Acme S.L.", "sl"),
        ("Acme Sp. z o.o.", "sp z oo"), ("Acme KGaA", "kgaa"), ("Acme GmbH & Co. KG", "gmbh and co kg"),
        ("Acme LLP", "llp"), ("Acme LP", "lp"), ("Acme S.A. de C.V.", "sa de cv"), ("Acme Ltda", "ltda"),
        ("Acme Sdn Bhd", "sdn bhd"), ("Acme Pte. Ltd.", "pte ltd"), ("Acme A.Ş.", "as"), ("Acme Kft.", "kft"),
        ("Acme s.r.o.", "sro"), ("Acme d.o.o.", "doo"), ("Acme PJSC", "pjsc"), ("Acme AB (publ)", "ab publ"),
    ],
)
def test_legal_forms_are_set_aside(name, form):
    result = normalise_name(name)
    assert result.tokens == ("acme",)
    assert result.legal_form == form


def test_prefix_legal_forms_and_stacked_forms():
    assert tokens("PT Bank Central Asia Tbk") == ("bank", "central", "asia")
    assert tokens("OOO Gazprom Neft") == ("gazprom", "neft")
    assert tokens("Toyota Motor Co., Ltd.") == ("toyota", "motor")
    assert tokens("Merck & Co., Inc.") == ("merck",)


def test_mistyped_long_legal_form_is_still_recognised():
    assert tokens("ICICI Bank Limitted") == ("icici", "bank")


def test_a_name_made_only_of_a_legal_form_word_is_kept():
    assert tokens("Limited") == ("limited",)
    assert tokens("Trust Company") == ("trust",)


@pytest.mark.parametrize(
    ("abbreviated", "expanded"),
    [
        ("Intl Business Machines Corp", "International Business Machines"),
        ("Acme Svcs", "Acme Services"), ("Acme Mfg", "Acme Manufacturing"), ("Acme Tech", "Acme Technologies"),
        ("Acme Sys", "Acme Systems"), ("Natl Grid", "National Grid"), ("Acme Assoc", "Acme Associates"),
        ("Warner Bros", "Warner Brothers"), ("Acme Grp", "Acme Group"), ("Acme Hldgs", "Acme Holdings"),
        ("Acme Mgmt", "Acme Management"), ("Acme Dept of Health", "Acme Department of Health"),
        ("Univ of Leeds", "University of Leeds"), ("Acme Co-op", "Acme Cooperative"),
    ],
)
def test_abbreviations_expand(abbreviated, expanded):
    assert tokens(abbreviated) == tokens(expanded)


def test_corp_expands_only_when_not_the_legal_form():
    assert normalise_name("Corp Services Ltd").folded == "corporation services"
    assert normalise_name("Acme Corp").folded == "acme"


@pytest.mark.parametrize(
    ("name", "division"),
    [("Acme - EMEA", "EMEA"), ("Acme (Germany)", "Germany"), ("Acme – North America", "North America"),
     ("Acme Ltd, UK Branch", "UK Branch"), ("Toyota (China) Co Ltd", "China")],
)
def test_division_tags_are_recorded_not_compared(name, division):
    result = normalise_name(name)
    assert result.tokens[0] in ("acme", "toyota") and len(result.tokens) == 1
    assert result.division == division


def test_dash_that_is_part_of_the_name_is_kept():
    assert tokens("A.P. Møller - Mærsk A/S") == ("ap", "moller", "marsk")
    assert normalise_name("A.P. Møller - Mærsk A/S").division is None


def test_stop_words_leave_tokens_but_stay_in_folded_text():
    result = normalise_name("Bank of Hawaii")
    assert result.folded == "bank of hawaii"
    assert result.tokens == ("bank", "hawaii")


def test_dotted_initials_join():
    assert tokens("J.P. Morgan") == ("jp", "morgan")
    assert tokens("I.B.M.") == ("ibm",)
    assert tokens("Amazon.com, Inc.") == ("amazon",)


@pytest.mark.parametrize(
    ("name", "division"),
    [("Halma North America", "north america"), ("Halma UK Limited", "uk"), ("Halma Deutschland GmbH", "deutschland"),
     ("Halma IT Department", "it department"), ("Halma Head Office", "head office"), ("Halma HQ", "hq"),
     ("Halma PLC UK & Ireland", "uk and ireland"), ("Halma EMEA Region", "emea region"),
     ("Halma Accounts Payable Dept", "accounts payable dept")],
)
def test_tags_typed_without_a_separator_are_recorded_not_compared(name, division):
    result = normalise_name(name)
    assert result.tokens == ("halma",)
    assert result.division == division


@pytest.mark.parametrize(
    ("name", "division"),
    [("Halma, Finance", "Finance"), ("Halma - R&D", "R&D"), ("Halma / Europe", "Europe"),
     ("Halma | Information Technology", "Information Technology"), ("Halma (Human Resources)", "Human Resources"),
     ("Halma, Sub-Saharan Africa", "Sub-Saharan Africa"), ("Halma - Latin America", "Latin America")],
)
def test_department_and_region_words_after_a_separator_are_tags(name, division):
    result = normalise_name(name)
    assert result.tokens == ("halma",)
    assert result.division == division


@pytest.mark.parametrize(
    "name",
    ["Bank of America", "Air Canada", "Bank Central Asia", "Telecom Italia", "Canadian Pacific", "Union Pacific",
     "Airports Company South Africa", "Post Office", "Fire Department", "Halma Finance", "Banco do Brasil"],
)
def test_place_and_function_words_that_are_part_of_the_name_stay(name):
    result = normalise_name(name)
    assert result.division is None
    assert len(result.tokens) >= 2


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("Kirin Hodlings", "Kirin Holdings"), ("BHP Group Limitd", "BHP Group"), ("Univesrität Augsburg",
     "Universität Augsburg"), ("Kabushiki Kiasha Toshiba", "Toshiba"), ("Acme Logisitcs", "Acme Logistics"),
     ("Acme Servvice", "Acme Service")],
)
def test_one_slip_in_a_long_vocabulary_or_legal_word_is_corrected(typed, meant):
    assert tokens(typed) == tokens(meant)


@pytest.mark.parametrize("name", ["Medica", "Generali", "Securitas", "Anonim Şirketi"])
def test_names_near_a_vocabulary_word_are_not_corrected(name):
    assert normalise_name(name).folded == " ".join(name.lower().replace("ş", "s").split())
