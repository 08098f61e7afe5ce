"""The import file's reading and the export's cells, without a database."""
import csv
import io

import pytest

from services.deals.domain.imports import (
    EXPORT_COLUMNS,
    ImportFileInvalid,
    export_lines,
    read_import_file,
    row_errors_as_columns,
    safe_cell,
    submission_body,
)

HEADER = "customer_name,customer_country,products,amount,currency,expected_close"


def test_a_row_becomes_the_body_of_a_single_submission():
    rows = read_import_file(b"Contact_Email, customer_name ,customer_country,products,amount,currency,"
                             b"expected_close,notes\r\n"
                             b'anna@x.se,"Nordljus, Fastigheter AB",SE,p1; p2,10.00,EUR,2030-01-01,""\r\n'
                             b",,,,,,,\r\n")
    assert rows == [(2, {"contact_email": "anna@x.se", "customer_name": "Nordljus, Fastigheter AB",
                         "customer_country": "SE", "products": "p1; p2", "amount": "10.00", "currency": "EUR",
                         "expected_close": "2030-01-01"})]
    assert submission_body(rows[0][1]) == {
        "customer": {"name": "Nordljus, Fastigheter AB", "country": "SE"}, "contact": {"email": "anna@x.se"},
        "products": ["p1", "p2"], "amount": {"amount": "10.00", "currency": "EUR"}, "expected_close": "2030-01-01"}


def test_lines_are_counted_in_the_file_even_across_quoted_line_breaks():
    rows = read_import_file(f'{HEADER},notes\nA,SE,p,1,EUR,2030-01-01,"two\nlines"\nB,SE,p,1,EUR,2030-01-01,x\n'
                            .encode())
    assert [line for line, _ in rows] == [3, 4]  # a record is reported at the line where it ends


@pytest.mark.parametrize("raw", ["\ufeff" + HEADER + "\nA,SE,p,1,EUR,2030-01-01\n"])
def test_a_byte_order_mark_is_accepted(raw):
    assert read_import_file(raw.encode())[0][1]["customer_name"] == "A"


def test_nul_characters_are_refused():
    with pytest.raises(ImportFileInvalid, match="NUL"):
        read_import_file(f"{HEADER}\nA\x00,SE,p,1,EUR,2030-01-01\n".encode())


def test_field_errors_are_named_by_the_file_s_columns():
    assert row_errors_as_columns({"customer.name": ["x"], "customer.country": ["y"], "amount.currency": ["z"],
                                  "amount.amount": ["w"], "products.0": ["v"], "contact.email": ["u"]}) == {
        "customer_name": ["x"], "customer_country": ["y"], "currency": ["z"], "amount": ["w"], "products": ["v"],
        "contact_email": ["u"]}


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "\nx", "\uff1d1"])
def test_a_cell_that_would_start_a_formula_starts_with_an_apostrophe(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Acme", "1200.50", "", "a=b", "x-y"])
def test_other_cells_are_left_as_they_are(value):
    assert safe_cell(value) == value


def test_the_export_is_csv_with_a_header_and_every_hostile_cell_defused():
    text = "".join(export_lines([{"id": "d1", "status": "approved", "customer": {"name": '=HYPERLINK("x")',
                                                                                  "country": "SE"},
                                  "products": ["p1", "p2"], "amount": {"amount": "1.00", "currency": "EUR"},
                                  "notes": "line\nbreak, \"quoted\""}]))
    records = list(csv.reader(io.StringIO(text)))
    assert records[0] == list(EXPORT_COLUMNS)
    row = dict(zip(EXPORT_COLUMNS, records[1], strict=True))
    assert row["customer_name"] == "'=HYPERLINK(\"x\")" and row["products"] == "p1;p2"
    assert row["notes"] == "line\nbreak, \"quoted\""
