"""Runtime identifiers the platform accepts: CloudWatch Synthetics (canaries) and Lambda (Python).

Import-safe: constants and pure functions only.

The settings of each project call :func:`check_canary_runtime` (``trading-edge:canaryRuntime``)
and :func:`check_lambda_python_runtime` (``trading-region:lambdaRuntime``) so that a deprecated
or unknown runtime stops the program before any resource exists (SPEC §3 S1, E6, R2), and the
policy rule on supported runtimes reads the same sets.

Where the lists come from
-------------------------
Looked up on 2026-12-03 in the stored copies of the AWS documentation (the copies are dated by
their content, early to late 2026). Only what those pages state is listed; a version they do
not confirm is in neither set, so it is rejected until someone confirms it and adds it here.

CloudWatch Synthetics, Node.js:

* ``CloudWatch_Synthetics_Library_nodejs_puppeteer`` (docs.amazonaws.cn/en_us, 2026 copy, which
  links the Puppeteer 24.37.5 changelog of 2026-02-19): ``syn-nodejs-puppeteer-15.0`` "is the
  most recent Synthetics runtime for Node.js and Puppeteer"; from ``syn-nodejs-puppeteer-13.1``
  the libraries are also published as ``@aws/synthetics-puppeteer``/``@aws/synthetics-logger``.
* ``CloudWatch_Synthetics_Library_nodejs_playwright``: ``syn-nodejs-playwright-9.0``
  (docs.amazonaws.cn/en_us copy, 2026 CVEs) and ``syn-nodejs-playwright-8.0``
  (docs.aws.amazon.com copy, 2026 CVEs), both on the Lambda Node.js 22.x runtime, which Lambda
  supports until 2027-04-30 (endoflife.date, aws-lambda, 2026 copy).
* ``CloudWatch_Synthetics_Runtime_Support_Policy`` (deprecation table, 2026 copy):
  ``syn-nodejs-puppeteer-7.0``, ``-6.2``, ``-5.2`` deprecated 2026-01-22; ``-6.1``, ``-6.0``,
  ``-5.1``, ``-5.0``, ``-4.0`` on 2024-03-08; ``-3.9``, ``-3.8`` on 2024-01-08. ``-3.5`` to
  ``-3.7`` on 2024-01-08 as quoted from that page in aws-samples/baseline-environment-on-aws#652
  and cloudtools/troposphere#2221.

Not listed, because the search could not confirm their status as of late 2026:
``syn-nodejs-puppeteer-8.0`` to ``-14.x`` (including ``-9.1`` and ``-10.0``, which run on
Node.js 20.x, deprecated by Lambda on 2026-04-30), ``syn-nodejs-playwright-1.0`` to ``-7.x``,
and the browserless ``syn-nodejs-3.0``/``-3.1`` (Node.js 20.x). Python (``syn-python-selenium-*``)
and Java (``syn-java-*``) Synthetics runtimes are never valid for the canary, which is Node.js.

Lambda, Python (``lambda-runtimes``/``lambda-python`` pages, 2026 copies; endoflife.date):

* supported: ``python3.14`` (identifier named on the Lambda runtimes page; standard support to
  2029-06-30), ``python3.13`` (deprecation 2029-06-30), ``python3.12`` (deprecation 2028-10-31).
* deprecated: ``python3.9`` (2025-12-15, aws-powertools/powertools-lambda-python#6883,
  terraform-linters/tflint-ruleset-aws#969), ``python3.8`` (2024-10-14), ``python3.7``,
  ``python3.6``, ``python2.7``.
* ``python3.10`` and ``python3.11`` are in neither set: the AWS pages found did not show their
  dates (cfn-lint's bundled lifecycle data gives 2026-10-31 and 2027-06-30), and this project
  builds on 3.12 or later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

#: Node.js Synthetics runtimes confirmed as supported (see the module docstring for sources).
SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES: Final[frozenset[str]] = frozenset(
    {
        "syn-nodejs-puppeteer-15.0",
        "syn-nodejs-playwright-9.0",
        "syn-nodejs-playwright-8.0",
    }
)

#: Node.js Synthetics runtimes listed as deprecated by AWS: canaries cannot be created on them.
DEPRECATED_SYNTHETICS_NODEJS_RUNTIMES: Final[frozenset[str]] = frozenset(
    {
        "syn-nodejs-puppeteer-7.0",
        "syn-nodejs-puppeteer-6.2",
        "syn-nodejs-puppeteer-6.1",
        "syn-nodejs-puppeteer-6.0",
        "syn-nodejs-puppeteer-5.2",
        "syn-nodejs-puppeteer-5.1",
        "syn-nodejs-puppeteer-5.0",
        "syn-nodejs-puppeteer-4.0",
        "syn-nodejs-puppeteer-3.9",
        "syn-nodejs-puppeteer-3.8",
        "syn-nodejs-puppeteer-3.7",
        "syn-nodejs-puppeteer-3.6",
        "syn-nodejs-puppeteer-3.5",
    }
)

_PUPPETEER_PREFIX: Final = "syn-nodejs-puppeteer-"

#: Runtimes the canary script in ``projects/edge/canary`` runs on: the supported Node.js
#: Puppeteer runtimes. The script uses the Puppeteer runtime's ``Synthetics`` library and its
#: ``nodejs/node_modules`` layout; Playwright runtimes have another API and layout.
CANARY_RUNTIMES: Final[frozenset[str]] = frozenset(
    runtime for runtime in SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES if runtime.startswith(_PUPPETEER_PREFIX)
)

#: Default for ``trading-edge:canaryRuntime``.
DEFAULT_CANARY_RUNTIME: Final = "syn-nodejs-puppeteer-15.0"

#: Lambda Python runtimes confirmed as supported.
SUPPORTED_LAMBDA_PYTHON_RUNTIMES: Final[frozenset[str]] = frozenset(
    {"python3.12", "python3.13", "python3.14"}
)

#: Lambda Python runtimes deprecated by AWS.
DEPRECATED_LAMBDA_PYTHON_RUNTIMES: Final[frozenset[str]] = frozenset(
    {"python2.7", "python3.6", "python3.7", "python3.8", "python3.9"}
)

#: Default for ``trading-region:lambdaRuntime``.
DEFAULT_LAMBDA_PYTHON_RUNTIME: Final = "python3.13"

CANARY_RUNTIME_KEY: Final = "canaryRuntime"
LAMBDA_RUNTIME_KEY: Final = "lambdaRuntime"


def _version_key(runtime: str) -> tuple[str, tuple[int, ...]]:
    """Sort key that orders ``...-9.0`` before ``...-15.0`` and ``python3.9`` before ``3.12``."""
    match = re.search(r"(\d+(?:\.\d+)*)$", runtime)
    if match is None:
        return (runtime, ())
    numbers = tuple(int(part) for part in match.group(1).split("."))
    return (runtime[: match.start()], numbers)


def format_allowed(runtimes: Iterable[str]) -> str:
    """Return ``runtimes`` as one comma-separated string, in version order (for messages)."""
    return ", ".join(sorted(runtimes, key=_version_key))


def check_canary_runtime(value: str) -> str:
    """Return ``value`` if the canary script can run on it; raise ``ValueError`` otherwise.

    Accepted: :data:`CANARY_RUNTIMES`. The one-line message names the key, the value, why it is
    refused (deprecated, a supported runtime the script does not run on, or not a supported
    Node.js runtime at all, such as ``syn-python-*``) and the allowed values.
    """
    allowed = format_allowed(CANARY_RUNTIMES)
    if not isinstance(value, str):
        raise ValueError(f"{CANARY_RUNTIME_KEY} {value!r} must be a string; allowed: {allowed}")
    if value in CANARY_RUNTIMES:
        return value
    if value in DEPRECATED_SYNTHETICS_NODEJS_RUNTIMES:
        reason = "is a deprecated Node.js Synthetics runtime"
    elif value in SUPPORTED_SYNTHETICS_NODEJS_RUNTIMES:
        reason = (
            "is a supported Synthetics runtime, but the canary script (projects/edge/canary) "
            "needs a Node.js Puppeteer runtime"
        )
    else:
        reason = "is not a supported Node.js Synthetics runtime"
    raise ValueError(f"{CANARY_RUNTIME_KEY} {value!r} {reason}; allowed: {allowed}")


def check_lambda_python_runtime(value: str) -> str:
    """Return ``value`` if it is a supported Lambda Python runtime; raise ``ValueError`` otherwise.

    Accepted: :data:`SUPPORTED_LAMBDA_PYTHON_RUNTIMES`. The one-line message names the key, the
    value, whether it is deprecated, and the allowed values.
    """
    allowed = format_allowed(SUPPORTED_LAMBDA_PYTHON_RUNTIMES)
    if not isinstance(value, str):
        raise ValueError(f"{LAMBDA_RUNTIME_KEY} {value!r} must be a string; allowed: {allowed}")
    if value in SUPPORTED_LAMBDA_PYTHON_RUNTIMES:
        return value
    if value in DEPRECATED_LAMBDA_PYTHON_RUNTIMES:
        reason = "is a deprecated Lambda Python runtime"
    else:
        reason = "is not a supported Lambda Python runtime"
    raise ValueError(f"{LAMBDA_RUNTIME_KEY} {value!r} {reason}; allowed: {allowed}")
