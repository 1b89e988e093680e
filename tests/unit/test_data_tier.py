"""D4–D8 on the real data program under mocks: Aurora, DynamoDB, S3, protection, the contract."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from shared.contracts import data as contract
from tests.planning import REPO, data_plan, of_type, one

PRIMARY, SECONDARY = "us-east-1", "us-east-2"
REGIONS = (PRIMARY, SECONDARY)
CODES = {PRIMARY: "use1", SECONDARY: "use2"}
ACCOUNT = "123456789012"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL = "aws:rds/globalCluster:GlobalCluster"
TABLE = "aws:dynamodb/table:Table"
SECRET = "aws:secretsmanager/secret:Secret"
BUCKET = "aws:s3/bucket:Bucket"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
MEMBER = {PRIMARY: "aurora-primary", SECONDARY: "aurora-secondary"}
DRIFTING_FIELDS = ["globalClusterIdentifier", "replicationSourceIdentifier", "engineVersion"]
CREDENTIAL_INPUTS = ("masterUsername", "masterPassword", "databaseName", "manageMasterUserPassword")


@pytest.fixture(scope="module", params=["dev", "prod"])
def plan(request):
    return data_plan(request.param)


def _key_arns(plan):
    """Region → ARN of that region's KMS key, from the key resources' own ids."""
    keys = {}
    for key in of_type(plan, "aws:kms/key:Key"):
        region = key["region"]
        keys[region] = plan.outputs[contract.REGIONAL][region][contract.KMS_KEY_ARN]
        assert keys[region].startswith(f"arn:aws:kms:{region}:{ACCOUNT}:key/")
    assert sorted(keys) == list(REGIONS)
    return keys


def _data_tier(module: str):
    """A module of projects/data/data_tier, loaded from its file (the program is not a package)."""
    import importlib.util

    path = REPO / "projects" / "data" / "data_tier" / f"{module}.py"
    spec = importlib.util.spec_from_file_location(f"data_tier_under_test.{module}", path)
    assert spec and spec.loader
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(loaded)
    return loaded


def _cluster(plan, region):
    return one(plan, CLUSTER, f"{MEMBER[region]}-cluster")


def _instances(plan, region):
    members = [r for r in of_type(plan, INSTANCE) if r["name"].startswith(MEMBER[region] + "-")]
    return sorted(members, key=lambda r: r["name"])


# ------------------------------------------------------------------------------------------
# key regions
# ------------------------------------------------------------------------------------------
def test_every_data_store_uses_its_own_regions_key(plan):
    keys = _key_arns(plan)
    for region in REGIONS:
        cluster = _cluster(plan, region)
        assert cluster["region"] == region
        assert cluster["inputs"]["storageEncrypted"] is True
        assert cluster["inputs"]["kmsKeyId"] == keys[region]
        for instance in _instances(plan, region):
            assert instance["region"] == region
            assert instance["inputs"]["performanceInsightsEnabled"] is True
            assert instance["inputs"]["performanceInsightsKmsKeyId"] == keys[region]
        encryption = one(
            plan,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            f"documents-{region}-encryption",
        )
        assert encryption["region"] == region
        assert encryption["inputs"]["rules"] == [
            {
                "applyServerSideEncryptionByDefault": {
                    "sseAlgorithm": "aws:kms",
                    "kmsMasterKeyId": keys[region],
                },
                "bucketKeyEnabled": True,
            }
        ]
        assert one(plan, BUCKET, f"documents-{region}-bucket")["region"] == region

    table = one(plan, TABLE, "orders-table")
    assert table["region"] == PRIMARY
    assert table["inputs"]["serverSideEncryption"] == {"enabled": True, "kmsKeyArn": keys[PRIMARY]}
    assert [(r["regionName"], r["kmsKeyArn"]) for r in table["inputs"]["replicas"]] == [
        (SECONDARY, keys[SECONDARY])
    ]

    secret = one(plan, SECRET, "db-credentials-secret")
    assert secret["region"] == PRIMARY
    assert secret["inputs"]["kmsKeyId"] == keys[PRIMARY]
    assert secret["inputs"]["replicas"] == [{"region": SECONDARY, "kmsKeyId": keys[SECONDARY]}]
    assert one(plan, GLOBAL, "aurora-global")["region"] == PRIMARY


# ------------------------------------------------------------------------------------------
# D4 Aurora
# ------------------------------------------------------------------------------------------
def test_secondary_carries_no_credentials_and_waits_for_the_primary_instance(plan):
    secondary = _cluster(plan, SECONDARY)
    for key in CREDENTIAL_INPUTS:
        assert key not in secondary["inputs"], key
    primary_instances = {i["urn"] for i in _instances(plan, PRIMARY)}
    assert len(primary_instances) == (2 if plan.document["stack"] == "prod" else 1)
    assert primary_instances <= set(secondary["dependencies"])
    assert one(plan, GLOBAL, "aurora-global")["urn"] in secondary["dependencies"]
    # and the primary does not wait for the secondary
    assert not {i["urn"] for i in _instances(plan, SECONDARY)} & set(_cluster(plan, PRIMARY)["dependencies"])


def test_primary_credentials_come_from_random_password_and_the_secret(plan):
    primary = _cluster(plan, PRIMARY)
    password = one(plan, "random:index/randomPassword:RandomPassword", "db-credentials-password")
    assert primary["inputs"]["masterUsername"] == "trading_admin"
    assert primary["inputs"]["databaseName"] == "trading"
    assert primary["inputs"]["masterPassword"] == "[secret]"
    assert "manageMasterUserPassword" not in primary["inputs"]
    assert password["urn"] in primary["dependencies"]
    assert password["inputs"]["length"] == 40 and password["inputs"]["special"] is True
    assert not set('/@" ') & set(password["inputs"]["overrideSpecial"])
    version = one(plan, "aws:secretsmanager/secretVersion:SecretVersion", "db-credentials-version")
    assert version["inputs"]["secretString"] == "[secret]"
    assert password["urn"] in version["dependencies"]
    secret = one(plan, SECRET, "db-credentials-secret")
    assert version["inputs"]["secretId"] == plan.outputs[contract.REGIONAL][PRIMARY][contract.SECRET_ARN]
    assert secret["urn"] in version["dependencies"]
    # Nothing in the stack config holds a password.
    assert not any("password" in k.lower() for k in plan.document["config"])


def test_secret_document_is_what_the_functions_parse():
    _runtime_key_names()  # puts the runtime on sys.path
    from trading_runtime.database import DatabaseCredentials

    payload = _data_tier("credentials").secret_payload("s3cr3t-from-random")
    parsed = DatabaseCredentials.from_secret_string(json.dumps(payload))
    assert (parsed.username, parsed.password, parsed.dbname, parsed.port) == (
        "trading_admin",
        "s3cr3t-from-random",
        "trading",
        5432,
    )


def test_both_members_ignore_the_three_drifting_fields(plan):
    for region in REGIONS:
        assert _cluster(plan, region)["ignoreChanges"] == DRIFTING_FIELDS


@pytest.mark.parametrize(
    ("overrides", "version"), [({}, "16.6"), ({"trading-data:engineVersion": "15.10"}, "15.10")]
)
def test_one_engine_version_everywhere(overrides, version):
    plan = data_plan("dev", overrides)
    global_cluster = one(plan, GLOBAL, "aurora-global")
    versions = [global_cluster["inputs"]["engineVersion"]] + [
        _cluster(plan, r)["inputs"]["engineVersion"] for r in REGIONS
    ]
    assert versions == [version] * 3
    assert plan.outputs[contract.ENGINE_VERSION] == version
    for r in of_type(plan, INSTANCE):
        assert "engineVersion" not in r["inputs"]  # instances follow their cluster
    families = {
        p["inputs"]["family"] for p in of_type(plan, "aws:rds/clusterParameterGroup:ClusterParameterGroup")
    }
    assert families == {f"aurora-postgresql{version.split('.')[0]}"}


def test_global_cluster_shape(plan):
    protected = plan.document["stack"] == "prod"
    g = one(plan, GLOBAL, "aurora-global")
    assert g["inputs"] == {
        "globalClusterIdentifier": f"trading-{plan.document['stack']}-aurora-global",
        "engine": "aurora-postgresql",
        "engineVersion": "16.6",
        "storageEncrypted": True,
        "deletionProtection": protected,
    }
    for region in REGIONS:
        assert (
            _cluster(plan, region)["inputs"]["globalClusterIdentifier"]
            == g["inputs"]["globalClusterIdentifier"]
        )
        assert g["urn"] in _cluster(plan, region)["dependencies"]


def test_members_backups_logs_network_and_parameters(plan):
    env = plan.document["stack"]
    for region in REGIONS:
        code = CODES[region]
        inputs = _cluster(plan, region)["inputs"]
        assert inputs["engine"] == "aurora-postgresql"
        assert inputs["clusterIdentifier"] == f"trading-{env}-aurora-{code}"
        assert inputs["backupRetentionPeriod"] == 7
        assert inputs["preferredBackupWindow"] == "05:00-06:00"
        assert inputs["preferredMaintenanceWindow"] == "sun:07:00-sun:08:00"
        assert inputs["enabledCloudwatchLogsExports"] == ["postgresql"]
        log_group = one(plan, "aws:cloudwatch/logGroup:LogGroup", f"{MEMBER[region]}-postgresql-log")
        assert log_group["region"] == region
        assert log_group["inputs"] == {
            "name": f"/aws/rds/cluster/trading-{env}-aurora-{code}/postgresql",
            "kmsKeyId": _key_arns(plan)[region],
            "retentionInDays": 90,
        }
        assert log_group["urn"] in _cluster(plan, region)["dependencies"]
        assert inputs["port"] == 5432
        assert "replicationSourceIdentifier" not in inputs
        db_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", f"network-{region}-db-sg")
        assert db_sg["urn"] in _cluster(plan, region)["dependencies"]
        assert len(inputs["vpcSecurityGroupIds"]) == 1 and inputs["vpcSecurityGroupIds"][0].startswith("sg-")

        subnet_group = one(plan, "aws:rds/subnetGroup:SubnetGroup", f"{MEMBER[region]}-subnets")
        assert subnet_group["region"] == region
        assert (
            subnet_group["inputs"]["subnetIds"]
            == plan.outputs[contract.REGIONAL][region][contract.PRIVATE_SUBNET_IDS]
        )
        assert inputs["dbSubnetGroupName"] == subnet_group["inputs"]["name"]

        params = one(plan, "aws:rds/clusterParameterGroup:ClusterParameterGroup", f"{MEMBER[region]}-params")
        assert params["region"] == region
        assert inputs["dbClusterParameterGroupName"] == params["inputs"]["name"]
        assert {p["name"]: p["value"] for p in params["inputs"]["parameters"]}["rds.force_ssl"] == "1"


@pytest.mark.parametrize(
    ("env", "instance_class", "count"), [("dev", "db.r6g.large", 1), ("prod", "db.r6g.xlarge", 2)]
)
def test_instances_per_region_from_settings(env, instance_class, count):
    plan = data_plan(env)
    for region in REGIONS:
        instances = _instances(plan, region)
        assert len(instances) == count
        for i, instance in enumerate(instances):
            assert instance["inputs"]["instanceClass"] == instance_class
            assert instance["inputs"]["identifier"] == f"trading-{env}-aurora-{i + 1}-{CODES[region]}"
            assert instance["inputs"]["publiclyAccessible"] is False
            assert instance["inputs"]["performanceInsightsRetentionPeriod"] == 7
            assert _cluster(plan, region)["urn"] in instance["dependencies"]


# ------------------------------------------------------------------------------------------
# D5 DynamoDB
# ------------------------------------------------------------------------------------------
def _runtime_key_names() -> tuple[set[str], str]:
    """Key attribute names the runtime uses, and the TTL attribute of the handler tests' table."""
    common = str(REPO / "projects" / "region" / "functions" / "common")
    if common not in sys.path:
        sys.path.insert(0, common)
    from trading_runtime.control import CONTROL_KEY
    from trading_runtime.orders import order_key

    assert set(order_key("0" * 8)) == set(CONTROL_KEY)
    conftest = (REPO / "tests" / "handlers" / "conftest.py").read_text()
    ttl = re.search(r'TimeToLiveSpecification=\{"Enabled": True, "AttributeName": "(\w+)"\}', conftest)
    assert ttl, "the handler tests no longer declare a TTL attribute"
    return set(CONTROL_KEY), ttl.group(1)


def test_table_matches_the_runtime_key_schema_and_ttl(plan):
    keys, ttl = _runtime_key_names()
    inputs = one(plan, TABLE, "orders-table")["inputs"]
    assert {inputs["hashKey"], inputs["rangeKey"]} == keys == {"pk", "sk"}
    assert (inputs["hashKey"], inputs["rangeKey"]) == ("pk", "sk")
    assert inputs["attributes"] == [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}]
    assert "globalSecondaryIndexes" not in inputs  # the runtime reads by key only
    assert inputs["ttl"] == {"attributeName": ttl, "enabled": True}


def test_table_is_a_global_table_with_streams_pitr_and_protection(plan):
    protected = plan.document["stack"] == "prod"
    inputs = one(plan, TABLE, "orders-table")["inputs"]
    assert inputs["name"] == f"trading-{plan.document['stack']}-orders"
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert inputs["streamEnabled"] is True and inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    assert inputs["deletionProtectionEnabled"] is protected
    assert len(inputs["replicas"]) == 1
    replica = inputs["replicas"][0]
    assert replica["regionName"] == SECONDARY != PRIMARY
    assert replica["pointInTimeRecovery"] is True
    assert replica["deletionProtectionEnabled"] is protected
    assert replica["propagateTags"] is True


# ------------------------------------------------------------------------------------------
# D6 S3
# ------------------------------------------------------------------------------------------
def _bucket_names(plan):
    return {r: f"trading-{plan.document['stack']}-documents-{CODES[r]}-{ACCOUNT}" for r in REGIONS}


def test_buckets_are_versioned_private_tls_only_with_lifecycle(plan):
    names = _bucket_names(plan)
    for region in REGIONS:
        name, arn = names[region], f"arn:aws:s3:::{names[region]}"
        bucket = one(plan, BUCKET, f"documents-{region}-bucket")
        assert bucket["inputs"]["bucket"] == name
        assert bucket["inputs"]["forceDestroy"] is False
        versioning = one(plan, VERSIONING, f"documents-{region}-versioning")
        assert versioning["inputs"] == {"bucket": name, "versioningConfiguration": {"status": "Enabled"}}
        pab = one(
            plan,
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            f"documents-{region}-public-access",
        )
        assert pab["inputs"] == {
            "bucket": name,
            "blockPublicAcls": True,
            "blockPublicPolicy": True,
            "ignorePublicAcls": True,
            "restrictPublicBuckets": True,
        }
        policy = one(plan, "aws:s3/bucketPolicy:BucketPolicy", f"documents-{region}-tls-only")
        assert json.loads(policy["inputs"]["policy"]) == {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [arn, f"{arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
        assert pab["urn"] in policy["dependencies"]
        lifecycle = one(
            plan,
            "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
            f"documents-{region}-lifecycle",
        )
        assert lifecycle["inputs"]["rules"] == [
            {
                "id": "noncurrent-versions",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "noncurrentVersionTransitions": [{"noncurrentDays": 30, "storageClass": "STANDARD_IA"}],
                "noncurrentVersionExpiration": {"noncurrentDays": 365},
                "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
            }
        ]
        assert versioning["urn"] in lifecycle["dependencies"]


@pytest.mark.parametrize(("source", "destination"), [(PRIMARY, SECONDARY), (SECONDARY, PRIMARY)])
def test_replication_rule_in_each_direction(plan, source, destination):
    keys, names = _key_arns(plan), _bucket_names(plan)
    rule_id = f"documents-{CODES[source]}-to-{CODES[destination]}"
    config = one(plan, REPLICATION, f"documents-replication-{CODES[source]}-to-{CODES[destination]}-config")
    role = one(
        plan, "aws:iam/role:Role", f"documents-replication-{CODES[source]}-to-{CODES[destination]}-role"
    )
    assert config["region"] == source
    assert config["inputs"]["bucket"] == names[source]
    assert config["inputs"]["role"] == f"arn:aws:iam::{ACCOUNT}:role/{role['inputs']['name']}"
    assert config["inputs"]["rules"] == [
        {
            "id": rule_id,
            "status": "Enabled",
            "priority": 1,
            "filter": {"prefix": ""},
            "deleteMarkerReplication": {"status": "Enabled"},
            "sourceSelectionCriteria": {
                "sseKmsEncryptedObjects": {"status": "Enabled"},
                "replicaModifications": {"status": "Enabled"},
            },
            "destination": {
                "bucket": f"arn:aws:s3:::{names[destination]}",
                "storageClass": "STANDARD",
                "encryptionConfiguration": {"replicaKmsKeyId": keys[destination]},
                "replicationTime": {"status": "Enabled", "time": {"minutes": 15}},
                "metrics": {"status": "Enabled", "eventThreshold": {"minutes": 15}},
            },
        }
    ]
    versionings = {one(plan, VERSIONING, f"documents-{r}-versioning")["urn"] for r in REGIONS}
    assert versionings <= set(config["dependencies"])
    assert rule_id in plan.outputs[contract.REPLICATION_RULE_IDS]


@pytest.mark.parametrize(("source", "destination"), [(PRIMARY, SECONDARY), (SECONDARY, PRIMARY)])
def test_replication_role_is_limited_to_its_buckets_and_keys(plan, source, destination):
    keys, names = _key_arns(plan), _bucket_names(plan)
    src_arn, dst_arn = f"arn:aws:s3:::{names[source]}", f"arn:aws:s3:::{names[destination]}"
    prefix = f"documents-replication-{CODES[source]}-to-{CODES[destination]}"
    role = one(plan, "aws:iam/role:Role", f"{prefix}-role")
    assert role["inputs"]["name"] == f"trading-{plan.document['stack']}-s3-replication-{CODES[source]}"
    trust = json.loads(role["inputs"]["assumeRolePolicy"])
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    ]
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", f"{prefix}-policy")["inputs"]["policy"])
    grants = {s["Sid"]: (s["Action"], s["Resource"]) for s in policy["Statement"]}
    assert grants == {
        "ReadSourceBucket": (["s3:GetReplicationConfiguration", "s3:ListBucket"], src_arn),
        "ReadSourceObjectVersions": (
            ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            f"{src_arn}/*",
        ),
        "WriteReplicas": (["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], f"{dst_arn}/*"),
        "DecryptWithSourceKey": (["kms:Decrypt"], keys[source]),
        "EncryptWithDestinationKey": (["kms:Encrypt"], keys[destination]),
    }
    conditions = {s["Sid"]: s.get("Condition") for s in policy["Statement"]}
    assert conditions["DecryptWithSourceKey"] == {
        "StringEquals": {"kms:ViaService": f"s3.{source}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [src_arn, f"{src_arn}/*"]},
    }
    assert conditions["EncryptWithDestinationKey"] == {
        "StringEquals": {"kms:ViaService": f"s3.{destination}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [dst_arn, f"{dst_arn}/*"]},
    }
    assert all(s["Effect"] == "Allow" for s in policy["Statement"])
    assert "*" not in [s["Resource"] for s in policy["Statement"]]


# ------------------------------------------------------------------------------------------
# D7 protection
# ------------------------------------------------------------------------------------------
STATEFUL = {
    GLOBAL: ["aurora-global"],
    CLUSTER: ["aurora-primary-cluster", "aurora-secondary-cluster"],
    TABLE: ["orders-table"],
    BUCKET: ["documents-us-east-1-bucket", "documents-us-east-2-bucket"],
    "aws:kms/key:Key": ["key-us-east-1-key", "key-us-east-2-key"],
    SECRET: ["db-credentials-secret"],
}


@pytest.mark.parametrize(
    ("env", "overrides", "protected"),
    [
        ("dev", {}, False),
        ("prod", {}, True),
        ("dev", {"trading-data:protectData": "true"}, True),
        ("prod", {"trading-data:protectData": "false"}, False),
    ],
)
def test_protect_and_retain_exactly_when_protection_is_on(env, overrides, protected):
    plan = data_plan(env, overrides)
    stateful_urns = set()
    for type_, names in STATEFUL.items():
        assert sorted(r["name"] for r in of_type(plan, type_)) == sorted(names)
        for name in names:
            r = one(plan, type_, name)
            stateful_urns.add(r["urn"])
            assert (r["protect"], r["retainOnDelete"]) == (protected, protected), name
    for r in plan.resources:
        if r["urn"] not in stateful_urns:
            assert (r["protect"], r["retainOnDelete"]) == (False, False), r["urn"]

    for region in REGIONS:
        inputs = _cluster(plan, region)["inputs"]
        assert inputs["deletionProtection"] is protected
        assert inputs["skipFinalSnapshot"] is (not protected)
        expected_snapshot = f"{inputs['clusterIdentifier']}-final" if protected else None
        assert inputs.get("finalSnapshotIdentifier") == expected_snapshot
    assert one(plan, GLOBAL, "aurora-global")["inputs"]["deletionProtection"] is protected
    table = one(plan, TABLE, "orders-table")["inputs"]
    assert table["deletionProtectionEnabled"] is protected
    assert table["replicas"][0]["deletionProtectionEnabled"] is protected
    assert one(plan, SECRET, "db-credentials-secret")["inputs"]["recoveryWindowInDays"] == (
        30 if protected else 7
    )


# ------------------------------------------------------------------------------------------
# D8 the contract
# ------------------------------------------------------------------------------------------
def test_every_contract_output_is_present_with_its_value(plan):
    env = plan.document["stack"]
    out = plan.outputs
    assert set(contract.TOP_LEVEL_KEYS) <= set(out)
    assert (out["environment"], out["primaryRegion"], out["secondaryRegion"]) == (env, PRIMARY, SECONDARY)
    assert out["regions"] == [PRIMARY, SECONDARY]
    assert out["tags"]["Environment"] == env
    assert out["globalClusterId"] == f"trading-{env}-aurora-global"
    assert out["globalClusterArn"] == f"arn:aws:rds::{ACCOUNT}:global-cluster:trading-{env}-aurora-global"
    assert re.fullmatch(
        rf"trading-{env}-aurora-global\.global-[0-9a-f]{{12}}\.global\.rds\.amazonaws\.com",
        out["globalWriterEndpoint"],
    )
    assert out["tableName"] == f"trading-{env}-orders"
    assert out["tableArn"] == f"arn:aws:dynamodb:{PRIMARY}:{ACCOUNT}:table/trading-{env}-orders"
    assert out["replicationRuleIds"] == ["documents-use1-to-use2", "documents-use2-to-use1"]
    keys = _key_arns(plan)
    secret_suffix = None
    for region in REGIONS:
        regional = out["regional"][region]
        code = CODES[region]
        assert set(regional) == set(contract.REGIONAL_KEYS)
        assert regional["vpcId"].startswith("vpc-")
        assert len(regional["privateSubnetIds"]) == 3
        assert regional["appSecurityGroupId"].startswith("sg-")
        assert regional["kmsKeyArn"] == keys[region]
        assert regional["clusterId"] == f"trading-{env}-aurora-{code}"
        assert regional["clusterArn"] == f"arn:aws:rds:{region}:{ACCOUNT}:cluster:trading-{env}-aurora-{code}"
        assert re.fullmatch(
            rf"trading-{env}-aurora-{code}\.cluster-ro-[0-9a-f]{{12}}\.{region}\.rds\.amazonaws\.com",
            regional["readerEndpoint"],
        )
        assert regional["bucketName"] == f"trading-{env}-documents-{code}-{ACCOUNT}"
        assert regional["bucketArn"] == f"arn:aws:s3:::trading-{env}-documents-{code}-{ACCOUNT}"
        m = re.fullmatch(
            rf"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:trading-{env}-db-master-(\w{{6}})",
            regional["secretArn"],
        )
        assert m, regional["secretArn"]
        # a replica keeps its primary's name and suffix
        secret_suffix = secret_suffix or m.group(1)
        assert m.group(1) == secret_suffix
        table_arn = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/trading-{env}-orders"
        assert regional["tableReplicaArn"] == table_arn
        assert regional["tableStreamArn"].startswith(f"{table_arn}/stream/")


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        (
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:trading-dev-db-master-AbC123",
            "arn:aws:secretsmanager:us-east-2:123456789012:secret:trading-dev-db-master-AbC123",
        ),
        (
            "arn:aws-us-gov:secretsmanager:us-east-1:123456789012:secret:x-AbC123",
            "arn:aws-us-gov:secretsmanager:us-east-2:123456789012:secret:x-AbC123",
        ),
    ],
)
def test_replica_secret_arn(arn, expected):
    replica_secret_arn = _data_tier("credentials").replica_secret_arn
    assert replica_secret_arn(arn, "us-east-1", "us-east-2") == expected
    with pytest.raises(ValueError, match="not a secret ARN of us-east-1"):
        replica_secret_arn(expected, "us-east-1", "us-east-2")


def test_the_data_program_does_not_import_runtime_code():
    for source in Path(REPO / "projects" / "data").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+trading_runtime", source.read_text(), re.M), source


# ------------------------------------------------------------------------------------------
# Running deploy-data while failed over (SPEC O2)
# ------------------------------------------------------------------------------------------
#: Cluster fields read back from the (emulated) account and compared with the plan's inputs.
LIVE_FIELDS = {
    "DBClusterIdentifier": "clusterIdentifier",
    "Engine": "engine",
    "EngineVersion": "engineVersion",
    "GlobalClusterIdentifier": "globalClusterIdentifier",
    "ReplicationSourceIdentifier": "replicationSourceIdentifier",
    "MasterUsername": "masterUsername",
    "DatabaseName": "databaseName",
    "StorageEncrypted": "storageEncrypted",
}


def _diff(planned: dict, live: dict, ignore: list[str]) -> set[str]:
    """The fields an update would change: planned inputs against live state, minus ignoreChanges."""
    fields = set(LIVE_FIELDS.values())
    return {f for f in fields if planned.get(f) != live.get(f)} - set(ignore)


def _failed_over_world(plan):
    """Build the planned global database in moto, fail it over to the secondary, read it back."""
    import boto3
    from moto import mock_aws

    from drill import emulator

    global_inputs = one(plan, GLOBAL, "aurora-global")["inputs"]
    from moto.rds.responses import RDSResponse

    # Other tests in this worker may rely on the emulator staying installed: undo only our own.
    was_installed = hasattr(RDSResponse, "failover_global_cluster")
    emulator.install()
    emulator.reset()
    emulator.configure(describes_until_complete=0)
    try:
        with mock_aws():
            clients = {r: boto3.client("rds", region_name=r) for r in REGIONS}
            clients[PRIMARY].create_global_cluster(
                GlobalClusterIdentifier=global_inputs["globalClusterIdentifier"],
                Engine=global_inputs["engine"],
                EngineVersion=global_inputs["engineVersion"],
                StorageEncrypted=True,
            )
            arns = {}
            for region in REGIONS:
                inputs = _cluster(plan, region)["inputs"]
                kwargs = {
                    "DBClusterIdentifier": inputs["clusterIdentifier"],
                    "Engine": inputs["engine"],
                    "EngineVersion": inputs["engineVersion"],
                    "GlobalClusterIdentifier": inputs["globalClusterIdentifier"],
                    "StorageEncrypted": inputs["storageEncrypted"],
                    "KmsKeyId": inputs["kmsKeyId"],
                }
                if region == PRIMARY:
                    kwargs.update(
                        MasterUsername=inputs["masterUsername"],
                        MasterUserPassword="from-the-secret-1234",
                        DatabaseName=inputs["databaseName"],
                    )
                arns[region] = clients[region].create_db_cluster(**kwargs)["DBCluster"]["DBClusterArn"]
            # The orchestrator's unplanned failover, from the secondary region.
            clients[SECONDARY].failover_global_cluster(
                GlobalClusterIdentifier=global_inputs["globalClusterIdentifier"],
                TargetDbClusterIdentifier=arns[SECONDARY],
                AllowDataLoss=True,
            )
            members = clients[SECONDARY].describe_global_clusters(
                GlobalClusterIdentifier=global_inputs["globalClusterIdentifier"]
            )["GlobalClusters"][0]["GlobalClusterMembers"]
            writer = {m["DBClusterArn"] for m in members if m["IsWriter"]}
            live = {}
            for region in REGIONS:
                described = clients[region].describe_db_clusters()["DBClusters"][0]
                live[region] = {LIVE_FIELDS[k]: v for k, v in described.items() if k in LIVE_FIELDS}
            return writer, arns, live
    finally:
        emulator.reset()
        if not was_installed:
            emulator.uninstall()


def test_a_plan_made_while_failed_over_leaves_membership_alone(plan):
    writer, arns, live = _failed_over_world(plan)
    assert writer == {arns[SECONDARY]}  # the secondary holds the writer

    # What the emulator does not model, AWS does report after a failover and later upgrades:
    # the demoted member replicates from the new writer, a minor version moved on the global
    # cluster, and a member removed during an outage reports no global cluster.
    live[PRIMARY]["replicationSourceIdentifier"] = arns[SECONDARY]
    live[SECONDARY]["engineVersion"] = live[PRIMARY]["engineVersion"] = "16.8"
    live[PRIMARY]["globalClusterIdentifier"] = ""

    for region in REGIONS:
        cluster = _cluster(plan, region)
        # Without ignoreChanges an update would re-attach, re-point or downgrade the members ...
        assert _diff(cluster["inputs"], live[region], []) == (
            set(DRIFTING_FIELDS) if region == PRIMARY else {"engineVersion"}
        )
        # ... with them, nothing about membership or the writer changes.
        assert _diff(cluster["inputs"], live[region], cluster["ignoreChanges"]) == set()

    # Nothing else in the plan could re-attach, detach or promote a member.
    global_inputs = one(plan, GLOBAL, "aurora-global")["inputs"]
    assert not {"sourceDbClusterIdentifier", "forceDestroy"} & set(global_inputs)
    for region in REGIONS:
        assert "replicationSourceIdentifier" not in _cluster(plan, region)["inputs"]
    assert not [r for r in plan.resources if r["type"].startswith("aws:rds/") and "Member" in r["type"]]
    # Writers use the global endpoint, which follows the writer; no regional writer endpoint.
    assert ".global.rds.amazonaws.com" in plan.outputs[contract.GLOBAL_WRITER_ENDPOINT]
