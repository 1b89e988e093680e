"""shared.runtimes: the runtime sets and the config checks, with their exact messages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from shared import runtimes
from shared.runtimes import (
    CANARY_RUNTIMES,
    DEFAULT_CANARY_RUNTIME,
    DEFAULT_LAMBDA_PYTHON_RUNTIME,
    DEPRECATED_LAMBDA_PYTHON_RUNTIMES,
    DEPRECATED_SYNTHETICS_NODEJS_RUNTIMES,
    SUPPORTED_LAMBDA_PYTHON_RUNTIMES,
    SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES,
    check_canary_runtime,
    check_lambda_python_runtime,
    format_allowed,
)

CANARY_ALLOWED = "syn-nodejs-puppeteer-15.0"
LAMBDA_ALLOWED = "python3.12, python3.13, python3.14"


# --- the sets ------------------------------------------------------------------------------


def test_supported_synthetics_nodejs_runtimes() -> None:
    assert SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES == frozenset(
        {"syn-nodejs-puppeteer-15.0", "syn-nodejs-playwright-9.0", "syn-nodejs-playwright-8.0"}
    )


def test_deprecated_synthetics_nodejs_runtimes() -> None:
    assert DEPRECATED_SYNTHETICS_NODEJS_RUNTIMES == frozenset(
        {f"syn-nodejs-puppeteer-{v}" for v in ("7.0", "6.2", "6.1", "6.0", "5.2", "5.1", "5.0", "4.0")}
        | {f"syn-nodejs-puppeteer-3.{minor}" for minor in (5, 6, 7, 8, 9)}
    )


def test_canary_runtimes_are_the_supported_puppeteer_ones() -> None:
    assert CANARY_RUNTIMES == frozenset({"syn-nodejs-puppeteer-15.0"})
    assert DEFAULT_CANARY_RUNTIME == "syn-nodejs-puppeteer-15.0"
    assert DEFAULT_CANARY_RUNTIME in CANARY_RUNTIMES


def test_lambda_python_sets_and_default() -> None:
    assert SUPPORTED_LAMBDA_PYTHON_RUNTIMES == frozenset({"python3.12", "python3.13", "python3.14"})
    assert DEPRECATED_LAMBDA_PYTHON_RUNTIMES == frozenset(
        {"python2.7", "python3.6", "python3.7", "python3.8", "python3.9"}
    )
    assert DEFAULT_LAMBDA_PYTHON_RUNTIME == "python3.13"
    assert DEFAULT_LAMBDA_PYTHON_RUNTIME in SUPPORTED_LAMBDA_PYTHON_RUNTIMES


@pytest.mark.parametrize(
    ("supported", "deprecated"),
    [
        (SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES, DEPRECATED_SYNTHETICS_NODEJS_RUNTIMES),
        (SUPPORTED_LAMBDA_PYTHON_RUNTIMES, DEPRECATED_LAMBDA_PYTHON_RUNTIMES),
    ],
    ids=["synthetics", "lambda"],
)
def test_sets_are_frozen_and_disjoint(supported: frozenset[str], deprecated: frozenset[str]) -> None:
    assert type(supported) is frozenset
    assert type(deprecated) is frozenset
    assert supported & deprecated == frozenset()


def test_no_python_or_java_runtime_among_the_nodejs_sets() -> None:
    for runtime in SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES | DEPRECATED_SYNTHETICS_NODEJS_RUNTIMES:
        assert runtime.startswith("syn-nodejs-"), runtime


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["python3.9", "python3.14", "python3.12"], "python3.9, python3.12, python3.14"),
        (
            ["syn-nodejs-puppeteer-15.0", "syn-nodejs-puppeteer-9.1", "syn-nodejs-puppeteer-10.0"],
            "syn-nodejs-puppeteer-9.1, syn-nodejs-puppeteer-10.0, syn-nodejs-puppeteer-15.0",
        ),
        ([], ""),
    ],
)
def test_format_allowed_orders_by_version(values: list[str], expected: str) -> None:
    assert format_allowed(values) == expected


# --- check_canary_runtime ------------------------------------------------------------------


@pytest.mark.parametrize("value", sorted(CANARY_RUNTIMES))
def test_canary_runtime_accepted(value: str) -> None:
    assert check_canary_runtime(value) == value


NOT_NODEJS = "is not a supported Node.js Synthetics runtime"
DEPRECATED_NODEJS = "is a deprecated Node.js Synthetics runtime"
NOT_FOR_SCRIPT = (
    "is a supported Synthetics runtime, but the canary script (projects/edge/canary) "
    "needs a Node.js Puppeteer runtime"
)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("syn-python-selenium-3.0", NOT_NODEJS),
        ("syn-python-selenium-6.0", NOT_NODEJS),
        ("syn-java-1.0", NOT_NODEJS),
        ("syn-nodejs-puppeteer-7.0", DEPRECATED_NODEJS),
        ("syn-nodejs-puppeteer-3.9", DEPRECATED_NODEJS),
        ("syn-nodejs-playwright-9.0", NOT_FOR_SCRIPT),
        ("syn-nodejs-playwright-8.0", NOT_FOR_SCRIPT),
        # not confirmed by the documentation search: rejected until someone confirms it
        ("syn-nodejs-puppeteer-9.1", NOT_NODEJS),
        ("syn-nodejs-puppeteer-10.0", NOT_NODEJS),
        ("syn-nodejs-3.0", NOT_NODEJS),
        ("syn-nodejs-puppeteer-99.0", NOT_NODEJS),
        (" syn-nodejs-puppeteer-15.0", NOT_NODEJS),
        ("SYN-NODEJS-PUPPETEER-15.0", NOT_NODEJS),
        ("", NOT_NODEJS),
    ],
)
def test_canary_runtime_rejected(value: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_canary_runtime(value)
    assert str(caught.value) == f"canaryRuntime {value!r} {reason}; allowed: {CANARY_ALLOWED}"
    assert "\n" not in str(caught.value)


def test_canary_runtime_message_example() -> None:
    with pytest.raises(ValueError) as caught:
        check_canary_runtime("syn-python-selenium-3.0")
    assert str(caught.value) == (
        "canaryRuntime 'syn-python-selenium-3.0' is not a supported Node.js Synthetics runtime; "
        "allowed: syn-nodejs-puppeteer-15.0"
    )


def test_canary_runtime_not_a_string() -> None:
    with pytest.raises(ValueError) as caught:
        check_canary_runtime(None)  # type: ignore[arg-type]
    assert str(caught.value) == f"canaryRuntime None must be a string; allowed: {CANARY_ALLOWED}"


@pytest.mark.parametrize("value", sorted(DEPRECATED_SYNTHETICS_NODEJS_RUNTIMES))
def test_every_deprecated_canary_runtime_is_rejected_as_deprecated(value: str) -> None:
    with pytest.raises(ValueError, match=r"is a deprecated Node\.js Synthetics runtime; allowed: "):
        check_canary_runtime(value)


# --- check_lambda_python_runtime -----------------------------------------------------------


@pytest.mark.parametrize("value", ["python3.12", "python3.13", "python3.14"])
def test_lambda_python_runtime_accepted(value: str) -> None:
    assert check_lambda_python_runtime(value) == value


LAMBDA_DEPRECATED = "is a deprecated Lambda Python runtime"
LAMBDA_UNKNOWN = "is not a supported Lambda Python runtime"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("python3.8", LAMBDA_DEPRECATED),
        ("python3.9", LAMBDA_DEPRECATED),
        ("python2.7", LAMBDA_DEPRECATED),
        ("python3.11", LAMBDA_UNKNOWN),
        ("python3.15", LAMBDA_UNKNOWN),
        ("nodejs22.x", LAMBDA_UNKNOWN),
        ("Python3.13", LAMBDA_UNKNOWN),
        ("3.13", LAMBDA_UNKNOWN),
    ],
)
def test_lambda_python_runtime_rejected(value: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_lambda_python_runtime(value)
    assert str(caught.value) == f"lambdaRuntime {value!r} {reason}; allowed: {LAMBDA_ALLOWED}"


def test_lambda_python_runtime_message_example() -> None:
    with pytest.raises(ValueError) as caught:
        check_lambda_python_runtime("python3.8")
    assert str(caught.value) == (
        "lambdaRuntime 'python3.8' is a deprecated Lambda Python runtime; "
        "allowed: python3.12, python3.13, python3.14"
    )


def test_lambda_python_runtime_not_a_string() -> None:
    with pytest.raises(ValueError) as caught:
        check_lambda_python_runtime(3.13)  # type: ignore[arg-type]
    assert str(caught.value) == f"lambdaRuntime 3.13 must be a string; allowed: {LAMBDA_ALLOWED}"


# --- import safety -------------------------------------------------------------------------


def test_module_is_import_safe_and_documented() -> None:
    source = Path(runtimes.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imported <= {"__future__", "re", "collections", "typing"}
    assert ast.get_docstring(tree)
    public_functions = [
        node for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")
    ]
    assert {f.name for f in public_functions} == {
        "format_allowed",
        "check_canary_runtime",
        "check_lambda_python_runtime",
    }
    assert all(ast.get_docstring(f) for f in public_functions)
