"""CSV downloads a spreadsheet opens as the interface's language expects."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Response
from flask_babel import format_decimal, get_locale


def csv_safe(value: Any) -> Any:
    """Spreadsheets run cells starting with = + - @ as formulas: neutralise them."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _cell(value: Any) -> Any:
    """A number as the spreadsheet's language writes it (12,5 in French); text made safe."""
    if isinstance(value, float):
        return format_decimal(value, format="0.##")
    return csv_safe(value)


def csv_download(filename: str, columns: Mapping[str, Any], rows: Iterable[Mapping[str, Any]]) -> Response:
    """A CSV attachment: a column per key of `columns` (headed by its label), a line per row.

    A French spreadsheet splits columns on ";" (the comma is its decimal mark); the byte order
    mark makes it read UTF-8. Decimals are written with the interface's decimal mark."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";" if str(get_locale()).startswith("fr") else ",")
    writer.writerow([str(label) for label in columns.values()])
    for row in rows:
        writer.writerow([_cell(row[column]) for column in columns])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})
