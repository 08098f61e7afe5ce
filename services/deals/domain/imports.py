"""Bulk import and export of registrations as CSV: the file's columns, reading a file into submission bodies (or
refusing it whole, before any row is taken), and writing registrations as CSV that a spreadsheet cannot mistake
for formulas. Standard library only."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from typing import Any

MAX_ROWS = 10_000
MAX_FILE_BYTES = 16 * 1024 * 1024
# The import's columns, in the order the documentation lists them; a header names each at most once, in any order.
REQUIRED_COLUMNS = ("customer_name", "customer_country", "products", "amount", "currency", "expected_close")
OPTIONAL_COLUMNS = ("idempotency_key", "customer_domain", "customer_tax_id", "customer_duns", "contact_name",
                    "contact_email", "opportunity_name", "notes")
IMPORT_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
COLUMN_HELP = {
    "idempotency_key": "the row's own Idempotency-Key (1-255 visible ASCII characters): importing the row again, "
                       "alone or in another file, replays its first result; without one the row gets "
                       "import:<job>:<line>",
    "customer_name": "the end customer's name",
    "customer_country": "ISO 3166-1 alpha-2, e.g. SE",
    "customer_domain": "the customer's web domain",
    "customer_tax_id": "VAT or other tax id",
    "customer_duns": "9-digit DUNS number",
    "contact_name": "the customer's contact person",
    "contact_email": "their e-mail address",
    "products": "listing ids separated by ';' (1 to 20)",
    "amount": "decimal, e.g. 25000.00",
    "currency": "ISO 4217, e.g. EUR",
    "expected_close": "YYYY-MM-DD, not in the past",
    "opportunity_name": "your name for the opportunity",
    "notes": "at most 2,000 characters",
}
EXPORT_COLUMNS = ("id", "status", "reason", "partner_id", "channel", "submitted_at", "protection_until",
                  "customer_name", "customer_domain", "customer_country", "customer_tax_id", "customer_duns",
                  "contact_name", "contact_email", "products", "amount", "currency", "expected_close",
                  "opportunity_name", "notes", "case_ref", "version")
# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_PRODUCT_SEPARATORS = re.compile(r"[;,\s|]+")


class ImportFileInvalid(ValueError):
    """The file cannot be imported at all; `errors` maps "file" or a column or "line N" to what is wrong."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{where}: {' '.join(messages)}" for where, messages in errors.items()))
        self.errors = errors


def read_import_file(raw: bytes, *, charset: str | None = None) -> list[tuple[int, dict[str, str]]]:
    """The file's data rows as (line, {column: cell}) with empty cells left out, or ImportFileInvalid for a file
    that is not UTF-8, not well-formed CSV, lacks a required column, names an unknown one, has no rows or too
    many, or gives one idempotency key to two rows."""
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise ImportFileInvalid({"file": [f"Send the file as UTF-8, not {charset}."]})
    if not raw.strip():
        raise ImportFileInvalid({"file": ["The file is empty: send a header row and at least one row."]})
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark, as spreadsheets save "CSV UTF-8", is fine
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ImportFileInvalid({"file": [
            f"The file is not UTF-8: byte 0x{raw[exc.start]:02X} on line {line} cannot be read. Save it as "
            "CSV UTF-8."]}) from None
    if "\x00" in text:
        raise ImportFileInvalid({"file": ["The file holds NUL characters: it is not a CSV text file."]})
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ImportFileInvalid({"file": [f"Line 1 is not well-formed CSV: {exc}."]}) from None
    columns = [name.strip().lower() for name in header]
    _check_header(columns)
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue  # a blank line, as spreadsheets leave at the end
            if len(record) != len(columns):
                raise ImportFileInvalid({f"line {line}": [
                    f"Has {len(record)} cells where the header has {len(columns)} columns."]})
            if len(rows) >= MAX_ROWS:
                raise ImportFileInvalid({"file": [f"More than {MAX_ROWS:,} rows: split the file."]})
            rows.append((line, {name: cell.strip() for name, cell in zip(columns, record, strict=True)
                                if cell.strip()}))
    except csv.Error as exc:
        raise ImportFileInvalid({f"line {reader.line_num}": [f"Not well-formed CSV: {exc}."]}) from None
    if not rows:
        raise ImportFileInvalid({"file": ["The file has a header but no rows."]})
    _check_keys(rows)
    return rows


def _check_header(columns: list[str]) -> None:
    errors: dict[str, list[str]] = {}
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        errors["columns"] = [f"Missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}."]
    unknown = [name for name in columns if name not in IMPORT_COLUMNS]
    if unknown:
        errors.setdefault("columns", []).append(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(repr(n) for n in unknown)}; the columns "
            f"are {', '.join(IMPORT_COLUMNS)}.")
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        errors.setdefault("columns", []).append(f"Named more than once: {', '.join(repeated)}.")
    if errors:
        raise ImportFileInvalid(errors)


def _check_keys(rows: list[tuple[int, dict[str, str]]]) -> None:
    seen: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for line, cells in rows:
        key = cells.get("idempotency_key")
        if key is None:
            continue
        if not _IDEMPOTENCY_KEY.match(key):
            errors[f"line {line}"] = ["idempotency_key: use 1 to 255 visible ASCII characters, such as a UUID."]
        elif key in seen:
            errors[f"line {line}"] = [f"idempotency_key {key!r} is also on line {seen[key]}: each row needs its own."]
        else:
            seen[key] = line
        if len(errors) >= 20:
            break
    if errors:
        raise ImportFileInvalid(errors)


def submission_body(cells: dict[str, str]) -> dict[str, Any]:
    """A row as the JSON body of POST /v1/deals, so that it goes through exactly the same validation."""
    customer = {field: cells[f"customer_{field}"] for field in ("name", "country", "domain", "tax_id", "duns")
                if f"customer_{field}" in cells}
    body: dict[str, Any] = {"customer": customer,
                            "products": [p for p in _PRODUCT_SEPARATORS.split(cells.get("products", "")) if p],
                            "amount": {"amount": cells.get("amount"), "currency": cells.get("currency")},
                            "expected_close": cells.get("expected_close")}
    contact = {field: cells[f"contact_{field}"] for field in ("name", "email") if f"contact_{field}" in cells}
    if contact:
        body["contact"] = contact
    for field in ("opportunity_name", "notes"):
        if field in cells:
            body[field] = cells[field]
    return body


def row_errors_as_columns(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """A submission's field errors ("customer.name", "products.0") named by the file's columns."""
    named: dict[str, list[str]] = {}
    for field, messages in errors.items():
        head, _, rest = field.partition(".")
        if head in ("customer", "contact") and rest:
            column = f"{head}_{rest.split('.')[0]}"
        elif head == "amount":
            column = "currency" if rest == "currency" else "amount"
        else:
            column = head
        named.setdefault(column, []).extend(messages)
    return named


# -- export ----------------------------------------------------------------------------------------------------------

def safe_cell(value: Any) -> str:
    """A cell a spreadsheet shows as text: one that would start a formula is prefixed with an apostrophe."""
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def export_row(registration: dict[str, Any]) -> list[str]:
    customer = registration.get("customer") or {}
    contact = registration.get("contact") or {}
    amount = registration.get("amount") or {}
    values = {
        **{name: registration.get(name) for name in ("id", "status", "reason", "partner_id", "channel",
                                                       "submitted_at", "protection_until", "expected_close",
                                                       "opportunity_name", "notes", "case_ref", "version")},
        "customer_name": customer.get("name"), "customer_domain": customer.get("domain"),
        "customer_country": customer.get("country"), "customer_tax_id": customer.get("tax_id"),
        "customer_duns": customer.get("duns"), "contact_name": contact.get("name"),
        "contact_email": contact.get("email"), "products": ";".join(registration.get("products") or []),
        "amount": amount.get("amount"), "currency": amount.get("currency"),
    }
    return [safe_cell(values[name]) for name in EXPORT_COLUMNS]


def export_lines(registrations: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV text, a line at a time (header first), for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(list(EXPORT_COLUMNS))
    for registration in registrations:
        yield line(export_row(registration))
