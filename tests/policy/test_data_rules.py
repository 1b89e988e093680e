"""Data-tier policy rules: every rule passes the real data plans and flags a broken one.

Bad cases are mutations of the real plan (one field changed), so each proves that the rule looks
at what the data program really produces; the one resource type the program does not create
(a separately managed DynamoDB replica) gets a small fixture.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.policy.rules import RULES, evaluate
from tests.planning import data_plan

PRIMARY, SECONDARY = "us-east-1", "us-east-2"
KEY_USE1 = "arn:aws:kms:us-east-1:123456789012:key/0000"
KEY_USE2 = "arn:aws:kms:us-east-2:123456789012:key/0000"

Doc = dict[str, Any]


def _rule(rule_id: str):
    matches = [r for r in RULES if r.id == rule_id]
    assert len(matches) == 1, rule_id
    return matches[0]


def _findings(doc: Doc, rule_id: str) -> list[dict[str, str]]:
    return evaluate(doc, [_rule(rule_id)])


def _res(doc: Doc, type_suffix: str, name: str) -> dict[str, Any]:
    matches = [r for r in doc["resources"] if r["type"].endswith(type_suffix) and r["name"] == name]
    assert len(matches) == 1, (type_suffix, name)
    return matches[0]


def _inputs(doc: Doc, type_suffix: str, name: str) -> dict[str, Any]:
    return _res(doc, type_suffix, name)["inputs"]


def _policy(doc: Doc, name: str) -> dict[str, Any]:
    return json.loads(_inputs(doc, "rolePolicy:RolePolicy", name)["policy"])


def _set_policy(doc: Doc, name: str, policy: dict[str, Any]) -> None:
    _inputs(doc, "rolePolicy:RolePolicy", name)["policy"] = json.dumps(policy)


# --- mutations (each breaks exactly one requirement) ------------------------------------------
def _secondary(doc: Doc) -> dict[str, Any]:
    return _res(doc, "cluster:Cluster", "aurora-secondary-cluster")


def _primary(doc: Doc) -> dict[str, Any]:
    return _res(doc, "cluster:Cluster", "aurora-primary-cluster")


def _secondary_key_from_primary(doc: Doc) -> None:
    _secondary(doc)["inputs"]["kmsKeyId"] = KEY_USE1


def _cluster_unencrypted(doc: Doc) -> None:
    _primary(doc)["inputs"]["storageEncrypted"] = False


def _replica_key_of_primary(doc: Doc) -> None:
    _inputs(doc, "table:Table", "orders-table")["replicas"][0]["kmsKeyArn"] = KEY_USE1


def _bucket_aes256(doc: Doc) -> None:
    rules = _inputs(doc, "BucketServerSideEncryptionConfiguration", "documents-us-east-2-encryption")["rules"]
    rules[0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}


def _secret_replica_key_of_primary(doc: Doc) -> None:
    _inputs(doc, "secret:Secret", "db-credentials-secret")["replicas"][0]["kmsKeyId"] = KEY_USE1


def _key_without_rotation(doc: Doc) -> None:
    _inputs(doc, "key:Key", "key-us-east-2-key")["enableKeyRotation"] = False


def _db_open_to_world(doc: Doc) -> None:
    rule = _inputs(doc, "SecurityGroupIngressRule", "network-us-east-1-db-from-app")
    rule.pop("referencedSecurityGroupId")
    rule["cidrIpv4"] = "0.0.0.0/0"


def _db_open_to_a_range(doc: Doc) -> None:
    rule = _inputs(doc, "SecurityGroupIngressRule", "network-us-east-2-db-from-app")
    rule.pop("referencedSecurityGroupId")
    rule["cidrIpv4"] = "10.20.0.0/16"


def _replication_on_star(doc: Doc) -> None:
    name = "documents-replication-use1-to-use2-policy"
    policy = _policy(doc, name)
    policy["Statement"][3]["Resource"] = "*"
    _set_policy(doc, name, policy)


def _replication_without_source_decrypt(doc: Doc) -> None:
    name = "documents-replication-use2-to-use1-policy"
    policy = _policy(doc, name)
    policy["Statement"] = [s for s in policy["Statement"] if s["Sid"] != "DecryptWithSourceKey"]
    _set_policy(doc, name, policy)


def _replication_encrypt_on_source_key(doc: Doc) -> None:
    name = "documents-replication-use1-to-use2-policy"
    policy = _policy(doc, name)
    policy["Statement"][4]["Resource"] = policy["Statement"][3]["Resource"]
    _set_policy(doc, name, policy)


def _secondary_with_username(doc: Doc) -> None:
    _secondary(doc)["inputs"]["masterUsername"] = "trading_admin"


def _secondary_renamed_with_database_name(doc: Doc) -> None:
    # Found by region, not by name.
    secondary = _secondary(doc)
    secondary["name"] = "aurora-replica-cluster"
    secondary["inputs"]["databaseName"] = "trading"


def _primary_managed_password(doc: Doc) -> None:
    _primary(doc)["inputs"]["manageMasterUserPassword"] = True


def _secondary_without_instance_dependency(doc: Doc) -> None:
    instances = {r["urn"] for r in doc["resources"] if r["name"].startswith("aurora-primary-instance")}
    _secondary(doc)["dependencies"] = [d for d in _secondary(doc)["dependencies"] if d not in instances]


def _secondary_forgets_engine_version_drift(doc: Doc) -> None:
    _secondary(doc)["ignoreChanges"] = ["globalClusterIdentifier", "replicationSourceIdentifier"]


def _primary_with_replication_source(doc: Doc) -> None:
    _primary(doc)["inputs"]["replicationSourceIdentifier"] = "arn:aws:rds:us-east-2:123456789012:cluster:x"


def _secondary_other_engine_version(doc: Doc) -> None:
    _secondary(doc)["inputs"]["engineVersion"] = "16.4"


def _global_unencrypted(doc: Doc) -> None:
    _inputs(doc, "globalCluster:GlobalCluster", "aurora-global")["storageEncrypted"] = False


def _instance_pi_default_key(doc: Doc) -> None:
    _inputs(doc, "ClusterInstance", "aurora-secondary-instance-1").pop("performanceInsightsKmsKeyId")


def _instance_pi_other_region_key(doc: Doc) -> None:
    _inputs(doc, "ClusterInstance", "aurora-primary-instance-1")["performanceInsightsKmsKeyId"] = KEY_USE2


def _bucket_without_sse(doc: Doc) -> None:
    doc["resources"] = [r for r in doc["resources"] if r["name"] != "documents-us-east-1-encryption"]


def _replica_without_pitr(doc: Doc) -> None:
    _inputs(doc, "table:Table", "orders-table")["replicas"][0]["pointInTimeRecovery"] = False


def _table_without_pitr(doc: Doc) -> None:
    _inputs(doc, "table:Table", "orders-table")["pointInTimeRecovery"] = {"enabled": False}


def _primary_listed_as_replica(doc: Doc) -> None:
    table = _inputs(doc, "table:Table", "orders-table")
    table["replicas"].append({"regionName": PRIMARY, "kmsKeyArn": KEY_USE1, "pointInTimeRecovery": True})


def _rule_without_metrics(doc: Doc) -> None:
    config = _inputs(doc, "BucketReplicationConfig", "documents-replication-use2-to-use1-config")
    config["rules"][0]["destination"].pop("metrics")


def _rule_rtc_at_30(doc: Doc) -> None:
    config = _inputs(doc, "BucketReplicationConfig", "documents-replication-use1-to-use2-config")
    config["rules"][0]["destination"]["replicationTime"]["time"]["minutes"] = 30


def _replication_not_after_destination_versioning(doc: Doc) -> None:
    config = _res(doc, "BucketReplicationConfig", "documents-replication-use1-to-use2-config")
    versioning = _res(doc, "BucketVersioning", "documents-us-east-2-versioning")["urn"]
    config["dependencies"] = [d for d in config["dependencies"] if d != versioning]


def _one_way_replication(doc: Doc) -> None:
    doc["resources"] = [
        r for r in doc["resources"] if r["name"] != "documents-replication-use2-to-use1-config"
    ]


def _no_replica_modification_sync(doc: Doc) -> None:
    config = _inputs(doc, "BucketReplicationConfig", "documents-replication-use2-to-use1-config")
    config["rules"][0]["sourceSelectionCriteria"].pop("replicaModifications")


def _table_on_default_provider(doc: Doc) -> None:
    _res(doc, "table:Table", "orders-table")["provider"] = ""


def _default_provider_not_disabled(doc: Doc) -> None:
    doc["config"].pop("pulumi:disable-default-providers")


def _secret_not_protected(doc: Doc) -> None:
    _res(doc, "secret:Secret", "db-credentials-secret")["retainOnDelete"] = False


def _cluster_skips_final_snapshot(doc: Doc) -> None:
    inputs = _secondary(doc)["inputs"]
    inputs["skipFinalSnapshot"] = True
    inputs.pop("finalSnapshotIdentifier")


def _replica_without_deletion_protection(doc: Doc) -> None:
    _inputs(doc, "table:Table", "orders-table")["replicas"][0]["deletionProtectionEnabled"] = False


BAD: list[tuple[str, str, Callable[[Doc], None], str]] = [
    # (rule, environment, mutation, fragment of the expected message)
    (
        "cmk-encryption-rds",
        "dev",
        _secondary_key_from_primary,
        "uses a KMS key of us-east-1, not of its own region us-east-2",
    ),
    ("cmk-encryption-rds", "dev", _cluster_unencrypted, "storageEncrypted must be true"),
    (
        "cmk-encryption-dynamodb",
        "dev",
        _replica_key_of_primary,
        "replica in us-east-2 uses a KMS key of us-east-1",
    ),
    ("cmk-encryption-s3", "dev", _bucket_aes256, "'AES256', not SSE-KMS"),
    (
        "cmk-encryption-secret",
        "dev",
        _secret_replica_key_of_primary,
        "secret replica in us-east-2 uses a KMS key of us-east-1",
    ),
    ("kms-rotation", "dev", _key_without_rotation, "key rotation is off"),
    ("no-world-open-ingress", "dev", _db_open_to_world, "open to 0.0.0.0/0"),
    ("no-wildcard-on-data", "dev", _replication_on_star, "on '*'"),
    ("pitr-everywhere", "dev", _replica_without_pitr, "replica in us-east-2 has point-in-time recovery off"),
    ("pitr-everywhere", "dev", _table_without_pitr, "table has point-in-time recovery off"),
    (
        "replication-rtc-metrics",
        "dev",
        _rule_without_metrics,
        "replication metrics are not enabled at 15 minutes",
    ),
    (
        "replication-rtc-metrics",
        "dev",
        _rule_rtc_at_30,
        "replication time control is not enabled at 15 minutes",
    ),
    (
        "replication-needs-versioning",
        "dev",
        _replication_not_after_destination_versioning,
        "does not depend on the versioning of trading-dev-documents-use2-123456789012",
    ),
    ("no-default-provider", "dev", _table_on_default_provider, "resource is on the default AWS provider"),
    (
        "no-default-provider",
        "dev",
        _default_provider_not_disabled,
        "does not list aws in pulumi:disable-default-providers",
    ),
    ("protect-stateful-in-prod", "prod", _secret_not_protected, "without protect and retainOnDelete"),
    # data tier section
    ("cmk-encryption-global-cluster", "dev", _global_unencrypted, "global cluster storage is not encrypted"),
    (
        "cmk-encryption-performance-insights",
        "dev",
        _instance_pi_default_key,
        "Performance Insights is not encrypted with a customer-managed KMS key",
    ),
    (
        "cmk-encryption-performance-insights",
        "dev",
        _instance_pi_other_region_key,
        "uses a KMS key of us-east-2, not of its own region us-east-1",
    ),
    (
        "bucket-has-cmk-encryption",
        "dev",
        _bucket_without_sse,
        "bucket has no server-side encryption configuration",
    ),
    (
        "database-ingress-from-security-groups-only",
        "dev",
        _db_open_to_a_range,
        "database ingress from cidrIpv4 10.20.0.0/16",
    ),
    (
        "global-secondary-no-credentials",
        "dev",
        _secondary_with_username,
        "secondary member in us-east-2 sets ['masterUsername']",
    ),
    (
        "global-secondary-no-credentials",
        "dev",
        _secondary_renamed_with_database_name,
        "secondary member in us-east-2 sets ['databaseName']",
    ),
    (
        "global-secondary-no-credentials",
        "dev",
        _primary_managed_password,
        "don't support the RDS-managed master password",
    ),
    (
        "global-secondary-waits-for-primary-instance",
        "prod",
        _secondary_without_instance_dependency,
        "does not depend on the primary's instance",
    ),
    (
        "global-members-ignore-drift",
        "dev",
        _secondary_forgets_engine_version_drift,
        "does not ignore ['engineVersion']",
    ),
    (
        "global-members-ignore-drift",
        "dev",
        _primary_with_replication_source,
        "sets replicationSourceIdentifier",
    ),
    (
        "global-engine-version-consistent",
        "dev",
        _secondary_other_engine_version,
        "engine version '16.4', global has '16.6'",
    ),
    (
        "dynamodb-replicas-not-primary",
        "dev",
        _primary_listed_as_replica,
        "own region us-east-1 is listed as a replica",
    ),
    (
        "replication-both-ways",
        "dev",
        _one_way_replication,
        "does not replicate back to trading-dev-documents-use1-123456789012",
    ),
    ("replication-both-ways", "dev", _no_replica_modification_sync, "replica modification sync is off"),
    (
        "replication-role-least-privilege",
        "dev",
        _replication_without_source_decrypt,
        "lacks kms:Decrypt on the source key arn:aws:kms:us-east-2",
    ),
    (
        "replication-role-least-privilege",
        "dev",
        _replication_encrypt_on_source_key,
        "lacks kms:Encrypt on the destination key arn:aws:kms:us-east-2",
    ),
    ("replication-role-least-privilege", "dev", _replication_on_star, "on '*'"),
    (
        "service-deletion-protection-in-prod",
        "prod",
        _cluster_skips_final_snapshot,
        "deleted without a final snapshot",
    ),
    (
        "service-deletion-protection-in-prod",
        "prod",
        _replica_without_deletion_protection,
        "replica in us-east-2 without deletionProtectionEnabled",
    ),
]

DATA_RULES = sorted({rule for rule, *_ in BAD} | {"dynamodb-standalone-replica"})


@pytest.fixture(scope="module", params=["dev", "prod"])
def real_plan(request) -> Doc:
    return data_plan(request.param).document


@pytest.mark.parametrize("rule_id", DATA_RULES)
def test_good_the_real_data_plans_pass(real_plan, rule_id):
    assert _findings(real_plan, rule_id) == []


@pytest.mark.parametrize(
    ("rule_id", "env", "mutate", "message"), BAD, ids=[f"{b[0]}:{b[2].__name__}" for b in BAD]
)
def test_bad_a_broken_plan_is_flagged_by_its_rule(rule_id, env, mutate, message):
    doc = copy.deepcopy(data_plan(env).document)
    mutate(doc)
    findings = _findings(doc, rule_id)
    assert findings, f"{rule_id} did not flag {mutate.__name__}"
    assert all(f["rule"] == rule_id and f["severity"] == "mandatory" for f in findings)
    assert any(message in f["message"] for f in findings), [f["message"] for f in findings]


@pytest.mark.parametrize("rule_id", ["service-deletion-protection-in-prod", "protect-stateful-in-prod"])
def test_protection_rules_leave_dev_alone(rule_id):
    assert _findings(data_plan("dev").document, rule_id) == []
    # ... but the same unprotected resources are violations once the environment is prod.
    doc = copy.deepcopy(data_plan("dev").document)
    doc["config"]["trading-data:environment"] = "prod"
    assert _findings(doc, rule_id)


def _replica_fixture(**inputs: Any) -> Doc:
    return {
        "config": {"trading-data:environment": "dev"},
        "resources": [
            {
                "urn": "urn:pulumi:dev::trading-data::aws:dynamodb/tableReplica:TableReplica::orders-use2",
                "type": "aws:dynamodb/tableReplica:TableReplica",
                "name": "orders-use2",
                "region": SECONDARY,
                "inputs": inputs,
            }
        ],
    }


@pytest.mark.parametrize(
    ("inputs", "messages"),
    [
        ({"pointInTimeRecovery": True, "kmsKeyArn": KEY_USE2}, []),
        (
            {"pointInTimeRecovery": False, "kmsKeyArn": KEY_USE2},
            ["replica in us-east-2 has point-in-time recovery off"],
        ),
        (
            {"pointInTimeRecovery": True, "kmsKeyArn": KEY_USE1},
            ["replica in us-east-2 uses a KMS key of us-east-1, not of its own region us-east-2"],
        ),
        (
            {"pointInTimeRecovery": True},
            ["replica in us-east-2 is not encrypted with a customer-managed KMS key"],
        ),
    ],
)
def test_standalone_replica_fixture(inputs, messages):
    findings = _findings(_replica_fixture(**inputs), "dynamodb-standalone-replica")
    assert [f["message"] for f in findings] == messages


def test_every_rule_of_the_data_section_has_cases():
    import inspect

    import shared.policy.rules as rules_module

    lines = inspect.getsource(rules_module).splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("# data tier (SPEC D4-D7")) + 1
    last = next(i for i, line in enumerate(lines) if line.startswith("# end of the data tier section")) + 1
    in_section = {r.id for r in RULES if first < r.check.__code__.co_firstlineno < last}
    assert len(in_section) == 13
    assert in_section <= set(DATA_RULES)


def test_a_stack_config_finding_points_at_the_root_stack():
    doc = copy.deepcopy(data_plan("dev").document)
    doc["config"].pop("pulumi:disable-default-providers")
    (finding,) = [f for f in _findings(doc, "no-default-provider") if "stack config" in f["message"]]
    assert finding["urn"] == "urn:pulumi:dev::trading-data::pulumi:pulumi:Stack::trading-data-dev"
