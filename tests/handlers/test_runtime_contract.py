"""trading_runtime units: settings from the environment, the database secret, DynamoDB values."""

from __future__ import annotations

import pytest
from trading_runtime.database import DatabaseConfigError, DatabaseCredentials
from trading_runtime.settings import RuntimeSettings, SettingsError

BASE = {
    "TABLE_NAME": "trading-dev-orders",
    "DB_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:trading-dev-db-AbCdEf",
    "DB_WRITER_ENDPOINT": "trading-dev.global-abc123.global.rds.amazonaws.com",
    "DB_READER_ENDPOINT": "trading-dev-use1.cluster-ro-abc123.us-east-1.rds.amazonaws.com",
    "REGION_NAME": "us-east-2",
    "AWS_REGION": "us-east-1",
    "ENVIRONMENT": "dev",
}


def test_defaults_and_region_precedence():
    settings = RuntimeSettings.from_env(BASE)

    assert settings == RuntimeSettings(
        table_name="trading-dev-orders",
        region="us-east-2",
        environment="dev",
        db_secret_arn=BASE["DB_SECRET_ARN"],
        db_writer_endpoint=BASE["DB_WRITER_ENDPOINT"],
        db_reader_endpoint=BASE["DB_READER_ENDPOINT"],
        db_port=None,
        db_name=None,
        db_connect_timeout=5.0,
        db_ssl="require",
        db_ssl_root_cert=None,
    )
    without_region_name = {k: v for k, v in BASE.items() if k != "REGION_NAME"}
    assert RuntimeSettings.from_env(without_region_name).region == "us-east-1"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"TABLE_NAME": ""}, "environment variable TABLE_NAME is required and is empty"),
        (
            {"REGION_NAME": "", "AWS_REGION": ""},
            "environment variable REGION_NAME (or AWS_REGION) is required",
        ),
        ({"DB_PORT": "0"}, "DB_PORT='0' is not a TCP port (1-65535)"),
        ({"DB_PORT": "postgres"}, "DB_PORT='postgres' is not a TCP port (1-65535)"),
        (
            {"DB_CONNECT_TIMEOUT": "soon"},
            "DB_CONNECT_TIMEOUT='soon' must be a number of seconds in (0, 60]",
        ),
        ({"DB_CONNECT_TIMEOUT": "0"}, "DB_CONNECT_TIMEOUT='0' must be a number of seconds in (0, 60]"),
        ({"DB_SSL": "prefer"}, "DB_SSL='prefer' is not one of require, verify-full, disable"),
    ],
)
def test_bad_environment_names_the_variable(overrides, message):
    with pytest.raises(SettingsError) as caught:
        RuntimeSettings.from_env({**BASE, **overrides})

    assert str(caught.value) == message


def test_explicit_values_are_parsed():
    settings = RuntimeSettings.from_env(
        {**BASE, "DB_PORT": "6432", "DB_NAME": "ledger", "DB_CONNECT_TIMEOUT": "2.5", "DB_SSL": "disable"}
    )

    assert (settings.db_port, settings.db_name, settings.db_connect_timeout, settings.db_ssl) == (
        6432,
        "ledger",
        2.5,
        "disable",
    )


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        ("not json", "database secret is not JSON"),
        ('["a"]', "database secret is not a JSON object"),
        ('{"password": "p"}', "database secret lacks a string 'username'"),
        ('{"username": "u", "password": ""}', "database secret lacks a string 'password'"),
        ('{"username": "u", "password": "p", "port": "x"}', "database secret 'port' is not an integer"),
    ],
)
def test_bad_secret_is_named_without_echoing_it(secret, message):
    with pytest.raises(DatabaseConfigError) as caught:
        DatabaseCredentials.from_secret_string(secret)

    assert str(caught.value) == message


def test_secret_fields():
    credentials = DatabaseCredentials.from_secret_string(
        '{"username": "trading", "password": "s3cr3t", "dbname": "trading", "port": "5432"}'
    )

    assert credentials == DatabaseCredentials("trading", "s3cr3t", "trading", 5432)


def test_dynamodb_values_round_trip_without_float():
    from decimal import Decimal

    from trading_runtime.dynamo import deserialize_item, serialize_item

    item = {"s": "x", "n": 7, "price": Decimal("99999999.99999999"), "ok": True, "m": {"l": [1]}}

    serialized = serialize_item({**item, "skipped": None})

    assert serialized == {
        "s": {"S": "x"},
        "n": {"N": "7"},
        "price": {"N": "99999999.99999999"},
        "ok": {"BOOL": True},
        "m": {"M": {"l": {"L": [{"N": "1"}]}}},
    }
    assert deserialize_item(serialized) == {**item, "n": Decimal(7), "m": {"l": [Decimal(1)]}}
    with pytest.raises(TypeError, match="use Decimal, not float"):
        serialize_item({"price": 1.5})


def test_credentials_repr_never_shows_the_password():
    credentials = DatabaseCredentials.from_secret_string('{"username": "trading", "password": "s3cr3t"}')

    assert repr(credentials) == "DatabaseCredentials(username='trading', dbname=None, port=None)"
    assert "s3cr3t" not in f"{credentials}"
