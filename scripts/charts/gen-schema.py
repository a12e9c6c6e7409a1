#!/usr/bin/env python3
"""Generates charts/toolbus/values.schema.json: strict (additionalProperties false everywhere,
enums, patterns, required keys), with each property's description taken from the `# --`
comment in values.yaml.

Why generated: the five services share ~20 settings, and a hand-written draft-07 schema cannot
share them strictly (`additionalProperties: false` does not see properties pulled in with
`allOf`; `unevaluatedProperties` needs draft 2019-09, which Helm 3 before 3.18 lacks). Here the
shared parts are Python values, inlined into each service.

    gen-schema.py           write the schema
    gen-schema.py --check   exit 1 when the committed schema is not what this would write
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import valuesdoc  # noqa: E402

CHART = valuesdoc.repo_root() / "charts" / "toolbus"

# ---- building blocks ------------------------------------------------------------------------


def obj(props: dict, required: list[str] | None = None, **extra) -> dict:
    """A closed object: unknown keys are errors, which catches typos in values files."""
    s = {"type": "object", "additionalProperties": False, "properties": props}
    if required is not None:
        s["required"] = required
    s.update(extra)
    return s


def closed(props: dict, **extra) -> dict:
    """A closed object whose every property is required (values.yaml sets them all, so a
    missing one means a user set it to null, which Helm treats as deleting the default)."""
    return obj(props, required=list(props), **extra)


def string(**extra) -> dict:
    return {"type": "string", **extra}


def enum(*values) -> dict:
    return {"enum": list(values)}


def integer(minimum: int | None = None, maximum: int | None = None) -> dict:
    s: dict = {"type": "integer"}
    if minimum is not None:
        s["minimum"] = minimum
    if maximum is not None:
        s["maximum"] = maximum
    return s


BOOL = {"type": "boolean"}
DNS_LABEL = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
ENV_NAME = "^[A-Za-z_][A-Za-z0-9_]*$"
SECRET_KEY = "^[-._a-zA-Z0-9]+$"
DURATION = "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$"
QUANTITY = "^[0-9]+(\\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$"
# A URL without userinfo: credentials never ride along in a (non-secret) URL value.
def url(schemes: str = "https?") -> dict:
    return {"type": "string", "anyOf": [{"const": ""}, {"pattern": f"^{schemes}://[^/@\\s]+(/[^\\s]*)?$"}]}


IPV4_CIDR = (
    "((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}"
    "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])"
)
IPV6_CIDR = "[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}/(12[0-8]|1[01][0-9]|[1-9]?[0-9])"
CIDR = {"type": "string", "pattern": f"^({IPV4_CIDR}|{IPV6_CIDR})$"}

STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
LABEL_MAP = {
    "type": "object",
    "propertyNames": {"pattern": "^([a-z0-9.-]+/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"},
    "additionalProperties": {"type": "string", "maxLength": 63},
}
QUANT = {"type": ["string", "number"], "pattern": QUANTITY}
LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"]

LABEL_SELECTOR = obj(
    {
        "matchLabels": LABEL_MAP,
        "matchExpressions": {
            "type": "array",
            "items": obj(
                {
                    "key": string(minLength=1),
                    "operator": enum("In", "NotIn", "Exists", "DoesNotExist"),
                    "values": {"type": "array", "items": string()},
                },
                required=["key", "operator"],
            ),
        },
    }
)
PORT = obj(
    {"port": integer(1, 65535), "protocol": enum("TCP", "UDP", "SCTP")},
    required=["port"],
)
PORTS = {"type": "array", "items": PORT}
CIDRS = {"type": "array", "items": CIDR, "uniqueItems": True}


def peer(with_ports: bool = True) -> dict:
    """Where a dependency is. Selectors are optional so that `null` in a values file removes a
    default selector (Helm merges maps: `{}` would keep the default's labels)."""
    props = {"namespaceSelector": LABEL_SELECTOR, "podSelector": LABEL_SELECTOR, "cidrs": CIDRS}
    if with_ports:
        props["ports"] = {**PORTS, "minItems": 1}
    return obj(props, required=["cidrs", "ports"] if with_ports else ["cidrs"])


# An egress CIDR, or a block with the blocks inside it that stay denied (an ipBlock's `except`).
EGRESS_CIDRS = {
    "type": "array",
    "items": {
        "anyOf": [
            CIDR,
            obj({"cidr": CIDR, "except": {**CIDRS, "minItems": 1}}, required=["cidr", "except"]),
        ]
    },
    "uniqueItems": True,
}
EGRESS = closed({"cidrs": EGRESS_CIDRS, "ports": {**PORTS, "minItems": 1}})
RESOURCE_LIST = obj({"cpu": QUANT, "memory": QUANT, "ephemeral-storage": QUANT})
# Requests and limits for CPU and memory are required: the tier ResourceQuotas in k8s/ count
# limits, and the policy test asserts every container has them.
RESOURCES = obj(
    {
        "requests": {**RESOURCE_LIST, "required": ["cpu", "memory"]},
        "limits": {**RESOURCE_LIST, "required": ["cpu", "memory"]},
    },
    required=["requests", "limits"],
)
TOLERATIONS = {
    "type": "array",
    "items": obj(
        {
            "key": string(),
            "operator": enum("Exists", "Equal"),
            "value": string(),
            "effect": enum("", "NoSchedule", "PreferNoSchedule", "NoExecute"),
            "tolerationSeconds": integer(0),
        }
    ),
}
AFFINITY = obj(
    {"nodeAffinity": {"type": "object"}, "podAffinity": {"type": "object"}, "podAntiAffinity": {"type": "object"}}
)
SECRET_REF = closed(
    {"name": {"type": "string", "anyOf": [{"const": ""}, {"pattern": DNS_SUBDOMAIN, "maxLength": 253}]}, "key": string(pattern=SECRET_KEY)}
)
REQUIRED_SECRET_REF = closed({"name": string(pattern=DNS_SUBDOMAIN, maxLength=253), "key": string(pattern=SECRET_KEY)})
# Existing Secrets mounted whole, read-only, at /var/run/secrets/toolbus/<name> (SECRETS_DIR).
CREDENTIAL_SECRETS = {"type": "array", "items": string(pattern=DNS_SUBDOMAIN, maxLength=253), "uniqueItems": True}
IMAGE = closed(
    {
        "repository": string(pattern="^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._/-][a-z0-9]+)*$|^$"),
        "tag": string(pattern="^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$|^$"),
        "digest": string(pattern="^sha256:[a-f0-9]{64}$|^$"),
        "pullPolicy": enum("", "Always", "IfNotPresent", "Never"),
    }
)
AUTOSCALING = closed(
    {
        "enabled": BOOL,
        "minReplicas": integer(1),
        "maxReplicas": integer(1),
        "targetCPUUtilizationPercentage": integer(1, 100),
    }
)
PDB = closed(
    {
        "enabled": BOOL,
        "maxUnavailable": {
            "oneOf": [integer(0), string(pattern="^([0-9]|[1-9][0-9]|100)%$")],
        },
    }
)
ENV = {
    "type": "object",
    "propertyNames": {"pattern": ENV_NAME},
    "additionalProperties": {"type": ["string", "number", "boolean"]},
}
SECRET_ENV = {
    "type": "array",
    "items": obj(
        {
            "name": string(pattern=ENV_NAME),
            "secretName": string(pattern=DNS_SUBDOMAIN, maxLength=253),
            "key": string(pattern=SECRET_KEY),
        },
        required=["name", "secretName", "key"],
    ),
}
LOG_LEVEL = enum("", *LOG_LEVELS)
# Unprivileged ports only: the containers run as non-root.
MANAGEMENT_PORT = integer(1024, 65535)
# A service's own management port; 0 inherits global.managementPort.
SERVICE_MANAGEMENT_PORT = {"type": "integer", "anyOf": [{"const": 0}, {"minimum": 1024, "maximum": 65535}]}
COMMAND = {"type": "array", "items": string(minLength=1)}


def pod_settings() -> dict:
    """Settings every Node.js service has, in toolConsumerDefaults and each service block."""
    return {
        "replicas": integer(0),
        "resources": RESOURCES,
        "autoscaling": AUTOSCALING,
        "pdb": PDB,
        "logLevel": LOG_LEVEL,
        "managementPort": SERVICE_MANAGEMENT_PORT,
        "env": ENV,
        "secretEnv": SECRET_ENV,
        "egress": EGRESS,
        "serviceAccount": closed({"annotations": STRING_MAP}),
        "podAnnotations": STRING_MAP,
        "podLabels": LABEL_MAP,
        "nodeSelector": STRING_MAP,
        "tolerations": TOLERATIONS,
        "affinity": AFFINITY,
        "priorityClassName": string(),
    }


def service(**extra) -> dict:
    return closed({"enabled": BOOL, "image": IMAGE, **pod_settings(), **extra})


# ---- the values ----------------------------------------------------------------------------

SECRET_NAMES = [
    "database",
    "redis",
    "kafkaSasl",
    "anthropicApiKey",
    "openaiApiKey",
    "modelHubToken",
    "gatewayBootstrapApiKey",
    "registryToken",
]
# Every secret reference ExternalSecrets and Vault can deliver: the `secrets` entries and
# `global.auth.jwtSecret`.
SECRET_REFS = [*SECRET_NAMES, "jwtSecret"]

PROVIDERS = ["anthropic", "openai-compatible", "offline"]

consumer_settings = pod_settings()
TOOL_CONSUMER = obj(
    {
        "name": string(pattern="^[a-z][a-z0-9-]{0,39}$"),
        "enabled": BOOL,
        "image": obj(IMAGE["properties"]),
        # Tool names as the tool SDK accepts them.
        "tools": {"type": "array", "items": string(pattern="^[a-z][a-z0-9_]{0,63}$"), "uniqueItems": True},
        "topic": string(pattern="^tool_requests\\.[a-z][a-z0-9-]{0,62}$"),
        "database": BOOL,
        "databaseSecret": REQUIRED_SECRET_REF,
        "credentialSecrets": CREDENTIAL_SECRETS,
        # Its own REGISTRY_TOKEN: either part falls back to secrets.registryToken's layout.
        "registryToken": obj(
            {"name": string(pattern=DNS_SUBDOMAIN, maxLength=253), "key": string(pattern=SECRET_KEY)}
        ),
        "migrationCommand": COMMAND,
        **consumer_settings,
    },
    required=["name"],
)

SCHEMA = closed(
    {
        "global": closed(
            {
                "imageRegistry": string(pattern="^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)*$"),
                "imageTag": string(pattern="^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$|^$"),
                "imagePullPolicy": enum("Always", "IfNotPresent", "Never"),
                "imagePullSecrets": {"type": "array", "items": string(pattern=DNS_SUBDOMAIN)},
                "clusterDomain": string(pattern=DNS_SUBDOMAIN),
                "logLevel": enum(*LOG_LEVELS),
                "labels": LABEL_MAP,
                "podAnnotations": STRING_MAP,
                "nodeSelector": STRING_MAP,
                "tolerations": TOLERATIONS,
                "affinity": AFFINITY,
                "priorityClassName": string(),
                "topologySpread": closed(
                    {
                        "enabled": BOOL,
                        "maxSkew": integer(1),
                        "whenUnsatisfiable": enum("ScheduleAnyway", "DoNotSchedule"),
                        "topologyKeys": {"type": "array", "items": string(minLength=1), "minItems": 1},
                    }
                ),
                # Restricted Pod Security forbids UID 0; the schema says so before the API server does.
                "runAsUser": integer(1),
                "fsGroup": integer(1),
                "tmpSizeLimit": string(pattern=QUANTITY),
                "terminationGracePeriodSeconds": integer(1),
                "preStopSleepSeconds": integer(0, 60),
                "managementPort": MANAGEMENT_PORT,
                "probes": closed(
                    {
                        "startup": closed({"periodSeconds": integer(1), "failureThreshold": integer(1)}),
                        "liveness": closed(
                            {"periodSeconds": integer(1), "timeoutSeconds": integer(1), "failureThreshold": integer(1)}
                        ),
                        "readiness": closed(
                            {"periodSeconds": integer(1), "timeoutSeconds": integer(1), "failureThreshold": integer(1)}
                        ),
                    }
                ),
                "auth": closed(
                    {
                        "issuer": string(minLength=1),
                        "audience": string(minLength=1),
                        "jwksUrl": url("https"),
                        "jwtSecret": SECRET_REF,
                    }
                ),
            }
        ),
        "namespaces": closed(
            {
                "create": BOOL,
                "edge": string(pattern=DNS_LABEL, maxLength=63),
                "core": string(pattern=DNS_LABEL, maxLength=63),
                "model": string(pattern=DNS_LABEL, maxLength=63),
                "tools": string(pattern=DNS_LABEL, maxLength=63),
                "podSecurity": enum("restricted", "baseline"),
                "podSecurityVersion": string(pattern="^(latest|v1\\.[0-9]+)$"),
                "labels": LABEL_MAP,
            }
        ),
        "kafka": closed(
            {
                "brokers": string(pattern="^[^,\\s]+:[0-9]+(,[^,\\s]+:[0-9]+)*$"),
                "tls": BOOL,
                "ca": closed(
                    {
                        "secret": SECRET_REF["properties"]["name"],
                        "configMap": SECRET_REF["properties"]["name"],
                        "key": string(pattern=SECRET_KEY),
                    }
                ),
                "saslMechanism": enum("", "plain", "scram-sha-256", "scram-sha-512"),
                # KAFKA_NAMESPACE's alphabet (libs/service-kit), starting with a letter or digit
                # so the KafkaTopic resources it prefixes keep valid Kubernetes names.
                "namespace": string(pattern="^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"),
                "peer": peer(),
            }
        ),
        "postgresql": closed({"peer": peer()}),
        "redis": closed(
            {
                "url": {"type": "string", "anyOf": [{"const": ""}, {"pattern": "^rediss?://[^:@/]+(:[0-9]+)?(/[0-9]+)?$"}]},
                "peer": peer(),
            }
        ),
        "otel": closed({"endpoint": url(), "peer": peer()}),
        "networkPolicy": closed(
            {
                "enabled": BOOL,
                "dns": peer(),
                "ingressController": peer(with_ports=False),
                "prometheus": peer(with_ports=False),
            }
        ),
        "secrets": closed(
            {
                **{n: SECRET_REF for n in SECRET_NAMES if n not in ("kafkaSasl", "registryToken")},
                "registryToken": closed({**SECRET_REF["properties"], "perService": BOOL}),
                "kafkaSasl": closed(
                    {
                        "name": SECRET_REF["properties"]["name"],
                        "usernameKey": string(pattern=SECRET_KEY),
                        "passwordKey": string(pattern=SECRET_KEY),
                        "perService": BOOL,
                    }
                ),
            }
        ),
        "externalSecrets": closed(
            {
                "enabled": BOOL,
                "apiVersion": enum("external-secrets.io/v1", "external-secrets.io/v1beta1"),
                "refreshInterval": string(pattern=DURATION),
                "secretStoreRef": closed(
                    {"kind": enum("ClusterSecretStore", "SecretStore"), "name": string(pattern=DNS_SUBDOMAIN)}
                ),
                "remoteRefs": obj(
                    {
                        n: obj({"key": string(minLength=1), "property": string(), "version": string(), "extract": BOOL}, required=["key"])
                        for n in SECRET_REFS
                    }
                ),
            }
        ),
        "vault": closed(
            {
                "enabled": BOOL,
                "role": string(minLength=1),
                "paths": obj({n: string(minLength=1) for n in SECRET_REFS}),
                "annotations": STRING_MAP,
                "peer": peer(),
            }
        ),
        "mtls": closed(
            {
                "enabled": BOOL,
                "port": integer(1024, 65535),
                "issuerRef": closed({"name": string(minLength=1), "kind": enum("Issuer", "ClusterIssuer")}),
                "duration": string(pattern=DURATION),
                "renewBefore": string(pattern=DURATION),
            }
        ),
        "migrations": closed(
            {
                "enabled": BOOL,
                "backoffLimit": integer(0),
                "activeDeadlineSeconds": integer(60),
                "resources": RESOURCES,
            }
        ),
        # The orchestrator and the coming gateway use Redis.
        "gateway": service(
            redis=BOOL,
            publicUrl=url(),
            ingress=closed(
                {
                    "enabled": BOOL,
                    "className": string(),
                    "host": string(pattern=DNS_SUBDOMAIN),
                    "annotations": STRING_MAP,
                    "tls": closed({"enabled": BOOL, "secretName": string(pattern=DNS_SUBDOMAIN)}),
                }
            ),
            httpRoute=closed(
                {
                    "enabled": BOOL,
                    "parentRefs": {
                        "type": "array",
                        "minItems": 1,
                        "items": obj(
                            {
                                "name": string(pattern=DNS_SUBDOMAIN),
                                "namespace": string(pattern=DNS_LABEL),
                                "sectionName": string(pattern=DNS_LABEL),
                            },
                            required=["name"],
                        ),
                    },
                    "hostnames": {"type": "array", "items": string(pattern="^(\\*\\.)?" + DNS_SUBDOMAIN[1:])},
                    "requestTimeout": string(pattern=DURATION),
                }
            ),
        ),
        "orchestrator": service(
            redis=BOOL,
            database=BOOL,
            migrationCommand=COMMAND,
            auditLedger=closed(
                {
                    "enabled": BOOL,
                    "keysSecret": {"type": "string", "anyOf": [{"const": ""}, {"pattern": DNS_SUBDOMAIN, "maxLength": 253}]},
                    # libs/security's key ids: file names of the keys folder, never a path or a dot file.
                    "keyId": string(pattern="^$|^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"),
                    "arguments": BOOL,
                }
            ),
            callGrantKey=closed(
                {
                    "secret": {"type": "string", "anyOf": [{"const": ""}, {"pattern": DNS_SUBDOMAIN, "maxLength": 253}]},
                    "key": string(pattern=SECRET_KEY),
                    "verificationKeysKey": {"type": "string", "anyOf": [{"const": ""}, {"pattern": SECRET_KEY}]},
                }
            ),
            gatewayJwksUrl=url(),
            registryToken=closed(
                {
                    "name": {"type": "string", "anyOf": [{"const": ""}, {"pattern": DNS_SUBDOMAIN, "maxLength": 253}]},
                    "key": {"type": "string", "anyOf": [{"const": ""}, {"pattern": SECRET_KEY}]},
                }
            ),
        ),
        "registry": service(
            database=BOOL,
            migrationCommand=COMMAND,
            credentialSecrets=CREDENTIAL_SECRETS,
            signingKey=closed(
                {
                    "secret": {"type": "string", "anyOf": [{"const": ""}, {"pattern": DNS_SUBDOMAIN, "maxLength": 253}]},
                    "key": string(pattern=SECRET_KEY),
                    "verificationKeysKey": {"type": "string", "anyOf": [{"const": ""}, {"pattern": SECRET_KEY}]},
                }
            ),
        ),
        "modelShim": service(
            routes=string(pattern="^$|^[^=;,\\s]+=[^=;,\\s]+:[^;,\\s]+(,[^=;,\\s]+:[^;,\\s]+)*(;[^=;,\\s]+=[^=;,\\s]+:[^;,\\s]+(,[^=;,\\s]+:[^;,\\s]+)*)*$"),
            provider=enum(*PROVIDERS),
            fallbackProvider=enum("", *PROVIDERS),
            anthropicModel=string(minLength=1),
            openaiBaseUrl=url(),
            openaiProviderName=string(pattern="^[a-z][a-z0-9-]{0,30}$"),
            openaiModel=string(),
        ),
        "vllm": closed(
            {
                "enabled": BOOL,
                "image": closed(
                    {
                        "repository": IMAGE["properties"]["repository"],
                        # A pinned release tag: `latest` or a branch name would change under a running cluster.
                        "tag": string(pattern="^v?[0-9]+\\.[0-9]+\\.[0-9]+([-.+][0-9A-Za-z.-]+)?$"),
                        "digest": IMAGE["properties"]["digest"],
                        "pullPolicy": IMAGE["properties"]["pullPolicy"],
                    }
                ),
                "replicas": integer(0),
                "model": closed(
                    {
                        "id": string(minLength=1),
                        "servedName": string(pattern="^[A-Za-z0-9][A-Za-z0-9._:/-]*$"),
                        "alias": string(pattern="^[A-Za-z0-9][A-Za-z0-9._:/-]*$|^$"),
                        "maxModelLen": integer(512),
                        "gpuMemoryUtilization": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                        "toolCallParser": enum(
                            "hermes", "mistral", "llama3_json", "llama4_json", "granite", "internlm",
                            "jamba", "pythonic", "deepseek_v3", "qwen3_coder", "openai", "xlam", "glm45",
                            "kimi_k2", "minimax", "phi4_mini_json",
                        ),
                        "extraArgs": {"type": "array", "items": string(pattern="^--")},
                    }
                ),
                "offline": BOOL,
                "gpu": closed({"count": integer(1, 16), "resourceName": string(pattern="^[a-z0-9.-]+/[a-z0-9.-]+$")}),
                "runtimeClassName": string(pattern="^$|" + DNS_SUBDOMAIN),
                "nodeSelector": STRING_MAP,
                "tolerations": TOLERATIONS,
                "affinity": AFFINITY,
                "priorityClassName": string(),
                "resources": RESOURCES,
                "shmSize": string(pattern=QUANTITY),
                "cache": closed(
                    {
                        "existingClaim": string(pattern="^$|" + DNS_SUBDOMAIN),
                        "size": string(pattern=QUANTITY),
                        "storageClassName": string(),
                        "accessMode": enum("ReadWriteOnce", "ReadWriteMany", "ReadWriteOncePod"),
                    }
                ),
                "startupProbe": closed({"periodSeconds": integer(1), "failureThreshold": integer(1)}),
                "pdb": PDB,
                "egress": EGRESS,
                "env": ENV,
                "podAnnotations": STRING_MAP,
            }
        ),
        "toolConsumerDefaults": closed(pod_settings() | {"database": BOOL}),
        "toolConsumers": {"type": "array", "items": TOOL_CONSUMER},
        "kafkaTopics": closed(
            {
                "enabled": BOOL,
                "apiVersion": enum("kafka.strimzi.io/v1", "kafka.strimzi.io/v1beta2"),
                "namespace": string(pattern=DNS_LABEL),
                "cluster": string(pattern=DNS_LABEL),
                "replicas": integer(1),
                "minInsyncReplicas": integer(1),
                "partitions": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[a-zA-Z0-9._-]+$"},
                    "additionalProperties": integer(1, 1000),
                },
            }
        ),
        "monitoring": closed(
            {
                "serviceMonitor": closed({"enabled": BOOL, "interval": string(pattern=DURATION), "labels": LABEL_MAP}),
                "prometheusRule": closed(
                    {
                        "enabled": BOOL,
                        "namespace": string(pattern="^$|" + DNS_LABEL),
                        "labels": LABEL_MAP,
                        "thresholds": closed(
                            {
                                "tokenSpikeFactor": {"type": "number", "exclusiveMinimum": 1},
                                "errorRatePercent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                                "p99LatencySeconds": {"type": "number", "exclusiveMinimum": 0},
                                "toolP99LatencySeconds": {"type": "number", "exclusiveMinimum": 0},
                                "modelP99LatencySeconds": {"type": "number", "exclusiveMinimum": 0},
                                "consumerLagMessages": integer(1),
                                "budgetPercent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                                "askFailurePercent": {"type": "number", "exclusiveMinimum": 0, "maximum": 100},
                                "askP99LatencySeconds": {"type": "number", "exclusiveMinimum": 0},
                                "policyRefusalsPerSecond": {"type": "number", "exclusiveMinimum": 0},
                            }
                        ),
                    }
                ),
                "grafanaDashboard": closed(
                    {"enabled": BOOL, "namespace": string(pattern="^$|" + DNS_LABEL), "labels": LABEL_MAP}
                ),
            }
        ),
    },
    title="Toolbus chart values",
)


def describe(schema: dict, docs: dict[str, valuesdoc.Doc], path: str = "") -> dict:
    """Copies each `# --` description from values.yaml into the matching schema property."""
    schema = copy.deepcopy(schema)
    for key, sub in schema.get("properties", {}).items():
        dotted = f"{path}.{key}" if path else key
        sub = describe(sub, docs, dotted)
        if dotted in docs:
            sub = {"description": docs[dotted].description, **sub}
        schema["properties"][key] = sub
    if schema.get("type") == "array" and "items" in schema and path == "toolConsumers":
        # Consumer entries share the descriptions of toolConsumerDefaults.
        schema["items"] = describe(schema["items"], {k.replace("toolConsumerDefaults.", "toolConsumers.", 1): v for k, v in docs.items()}, path)
    return schema


def main() -> int:
    check = "--check" in sys.argv[1:]
    docs = valuesdoc.parse(CHART / "values.yaml").docs
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", **describe(SCHEMA, docs)}
    text = valuesdoc.prettier(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", str(CHART / "values.schema.json"))
    return valuesdoc.write_or_check(CHART / "values.schema.json", text, check, "scripts/charts/gen-schema.py")


if __name__ == "__main__":
    sys.exit(main())
