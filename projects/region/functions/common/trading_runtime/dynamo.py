"""DynamoDB attribute-value conversion (numbers stay ``Decimal``, never ``float``).

A small converter of its own instead of ``boto3.dynamodb.types``: importing that module
imports boto3 and s3transfer, about 0.1 s of every cold start, for two dozen lines of logic.
Covers the types the functions store: S, N, BOOL, NULL, M, L.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


def serialize_value(value: Any) -> dict[str, Any]:
    """One Python value → one DynamoDB attribute value (``float`` is refused)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError(f"DynamoDB numbers must be finite, got {value}")
        return {"N": str(value)}
    if isinstance(value, Mapping):
        return {"M": {str(k): serialize_value(v) for k, v in value.items()}}
    if isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        return {"L": [serialize_value(v) for v in value]}
    raise TypeError(f"cannot store {type(value).__name__} in DynamoDB (use Decimal, not float)")


def deserialize_value(attribute: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value → Python (``N`` → ``Decimal``)."""
    if len(attribute) != 1:
        raise ValueError(f"not a DynamoDB attribute value: {attribute!r}")
    ((kind, value),) = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        return Decimal(value)
    if kind == "BOOL":
        return bool(value)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: deserialize_value(v) for k, v in value.items()}
    if kind == "L":
        return [deserialize_value(v) for v in value]
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {Decimal(v) for v in value}
    raise ValueError(f"unsupported DynamoDB type {kind!r}")


def serialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """Python values → DynamoDB attribute values (``None`` values are left out)."""
    return {k: serialize_value(v) for k, v in item.items() if v is not None}


def deserialize_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values → Python values (numbers as ``Decimal``)."""
    return {k: deserialize_value(v) for k, v in item.items()}


def orders_table_request(table_name: str) -> dict[str, Any]:
    """``CreateTable`` arguments of the orders global table, as the data project declares it.

    Emulators (the handler and orchestrator tests, the drill) create the table from this, so a
    change of key layout reaches them all at once; ``tests/unit/test_data_tier.py`` holds the
    data project's ``aws.dynamodb.Table`` to the same ``pk``/``sk`` string keys.
    """
    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
