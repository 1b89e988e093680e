"""Validation of the ``POST /orders`` body.

The body is parsed with JSON numbers as ``Decimal`` (a price never passes through ``float``) and
checked against a JSON schema compiled once per container with fastjsonschema — the engine
behind powertools' validation utility, used directly because the utility compiles the schema
again on every call. Missing and unknown fields are checked first, so every error names
exactly one field, in a fixed order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import fastjsonschema
from trading_runtime.orders import (
    MAX_PRICE,
    MAX_PRICE_DECIMALS,
    MAX_QUANTITY,
    SIDES,
    OrderRequest,
)

MAX_BODY_BYTES = 16 * 1024
MAX_INTEGER_DIGITS = 18  # far above MAX_QUANTITY and MAX_PRICE
FIELDS = ("client_order_id", "symbol", "side", "quantity", "limit_price")
PRICE_STEP = Decimal(1).scaleb(-MAX_PRICE_DECIMALS)
PRICE_TEXT_RE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,20})?")

ORDER_SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": list(FIELDS),
    "properties": {
        "client_order_id": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": "^[A-Za-z0-9._:-]+$",
        },
        "symbol": {"type": "string", "minLength": 1, "maxLength": 12, "pattern": "^[A-Z0-9.]+$"},
        "side": {"type": "string", "enum": list(SIDES)},
        # "integer" rejects booleans, and Decimal (every JSON number with a fraction or an
        # exponent, because of _parse_number), so 1.5, 1.0 and 1e3 are refused.
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
        "limit_price": {"type": ["string", "number"]},
    },
}


class RequestValidationError(ValueError):
    """A request the API refuses; ``field`` names what is wrong, ``status`` is 400 or 422."""

    def __init__(self, field: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON error body."""
        return {"error": "invalid_request", "field": self.field, "message": self.message}


_validator: Callable[[Any], Any] | None = None


def _validate_schema(data: Any) -> None:
    global _validator
    if _validator is None:
        _validator = fastjsonschema.compile(ORDER_SCHEMA)
    _validator(data)


class _ExponentDecimal(Decimal):
    """A JSON number written with an exponent (``1e5``): refused as a price."""


def _parse_number(text: str) -> Decimal:
    # json hands over the literal: the only place where 1e5 and 100000 still differ.
    return _ExponentDecimal(text) if "e" in text or "E" in text else Decimal(text)


class _HugeInteger(Decimal):
    """A JSON integer too long for any field (Python's int() refuses over 4300 digits)."""


def _parse_integer(text: str) -> int | Decimal:
    return _HugeInteger(text) if len(text.lstrip("-")) > MAX_INTEGER_DIGITS else int(text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise RequestValidationError(key, f"{key} appears more than once", status=400)
        result[key] = value
    return result


def parse_body(body: str | None) -> Any:
    """Parse the raw body as JSON (decimals as ``Decimal``); 400 when it is not JSON."""
    if body is None or not body.strip():
        raise RequestValidationError("body", "a JSON object body is required", status=400)
    if len(body.encode("utf-8")) > MAX_BODY_BYTES:
        raise RequestValidationError("body", f"body is larger than {MAX_BODY_BYTES} bytes", status=413)
    try:
        return json.loads(
            body,
            parse_float=_parse_number,
            parse_int=_parse_integer,
            parse_constant=_reject_constant,
            object_pairs_hook=_reject_duplicates,
        )
    except RequestValidationError:
        raise
    except ValueError as exc:
        raise RequestValidationError("body", f"body is not valid JSON: {exc}", status=400) from exc


def parse_limit_price(value: Any) -> Decimal:
    """A positive decimal with at most 8 decimal places, from a JSON string or number.

    The checks compare exactly and never normalize first: under the default decimal context
    ``1e-999999999`` would normalize to ``0`` (accepted at price 0) and ``1e999999999`` would
    overflow (a 500), and a long fraction would be rounded to 28 digits.
    """
    if isinstance(value, str):
        if PRICE_TEXT_RE.fullmatch(value) is None:
            raise RequestValidationError("limit_price", 'limit_price must be a plain decimal like "101.25"')
        price = Decimal(value)
    elif isinstance(value, _ExponentDecimal):
        raise RequestValidationError("limit_price", "limit_price must be written without an exponent")
    elif isinstance(value, Decimal | int) and not isinstance(value, bool):
        price = Decimal(value)
    else:  # pragma: no cover - the schema already refused other types
        raise RequestValidationError("limit_price", "limit_price must be a string or a number")
    if not price.is_finite() or price <= 0:
        raise RequestValidationError("limit_price", "limit_price must be greater than 0")
    if price > MAX_PRICE:
        raise RequestValidationError("limit_price", f"limit_price must be at most {MAX_PRICE}")
    # 0 < price <= 1e9: quantizing to 8 places needs at most 18 digits, exact in the context.
    if price.quantize(PRICE_STEP) != price:
        raise RequestValidationError(
            "limit_price", f"limit_price has more than {MAX_PRICE_DECIMALS} decimal places"
        )
    return price


def validate_order_request(data: Any) -> OrderRequest:
    """Validate a parsed body into an :class:`OrderRequest`; errors name one field."""
    if not isinstance(data, dict):
        raise RequestValidationError("body", "body must be a JSON object", status=400)
    for field in FIELDS:
        if field not in data:
            raise RequestValidationError(field, f"{field} is required")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise RequestValidationError(
            unknown[0], f"unknown field {unknown[0]!r}; allowed fields: {', '.join(FIELDS)}"
        )
    if isinstance(data["quantity"], _HugeInteger):
        raise RequestValidationError("quantity", f"quantity must be at most {MAX_QUANTITY}")
    try:
        _validate_schema(data)
    except fastjsonschema.JsonSchemaValueException as exc:
        path = [str(part) for part in (exc.path or []) if part != "data"]
        field = path[0] if path else "body"
        message = exc.message.replace("data.", "", 1)
        raise RequestValidationError(field, message) from exc
    return OrderRequest(
        client_order_id=data["client_order_id"],
        symbol=data["symbol"],
        side=data["side"],
        quantity=data["quantity"],
        limit_price=parse_limit_price(data["limit_price"]),
    )
