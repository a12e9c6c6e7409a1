#!/usr/bin/env bash
# Chart tests (the `charts` tier of `make test`; `make charts` alone):
#
#   1. generated files current: values.schema.json and the chart README
#   2. helm lint --strict: default values and every ci/*-values.yaml
#   3. helm template: default values, every ci scenario and every k8s/examples file
#   4. helm-unittest suites (charts/toolbus/tests/*_test.yaml), counted test by test
#   5. offline validation against the Kubernetes schemas (kubernetes-validate --strict) of every
#      render and of the manifests in k8s/; custom resources are skipped by kind, by name
#   6. policy checks on every render (resources, probes, restricted pods, default deny,
#      wiring, no secrets), and canary secret values that must never reach the output
#   7. wrong values files (tests/bad-values/*.yaml) each refused by lint and template with
#      the message named on its `# expect:` line (template only for `# refused-by: template`
#      files: cross-field rules use `fail`, which helm lint tolerates)
#   8. the chart tells the truth about the code: every environment variable of every render is
#      declared by the config spec of the service it lands in, and every variable a spec requires
#      is set (scripts/charts/env-check.py, with the specs config-specs.mjs reads from the built
#      config modules; the services are built first, from Nx's cache when current), and the
#      check itself fails on an unread, a missing required and a misplaced secret variable
#   9. the dashboard and the PrometheusRule query only metrics and labels the code registers
#      (scripts/charts/metrics-check.py, with the registrations metric-names.mjs reads from the
#      sources), their runbook links land on headings, and the check fails on a renamed metric,
#      a dropped label and a histogram without its suffix
#  10. the KafkaTopics of every render are libs/contracts' topics (kafka.namespace in front),
#      and k8s/kafka-users.yaml (and any rendered KafkaUser) lets each service read and write
#      what its code does (scripts/charts/kafka-check.py, with kafka-contract.mjs), with probes
#
# Counts every check, writes $TOOLBUS_ROOT/reports/tests/charts.checks.json
# ({"name":"charts","passed":N,"failed":M}) and exits non-zero on any failure.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/charts-env.sh"
cd "$TOOLBUS_ROOT"

"$TOOLBUS_ROOT/scripts/charts/setup-tools.sh"

CHART=charts/toolbus
# No __pycache__ next to the scripts: nothing of a run lands in the repository.
export PYTHONDONTWRITEBYTECODE=1
KUBE=$CHARTS_KUBE_VERSION
PY="$CHARTS_VENV/bin/python"
reports="$TOOLBUS_ROOT/reports/tests"
mkdir -p "$reports"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
failures=()
ok() { passed=$((passed + 1)); printf '  \033[32mok\033[0m   %s\n' "$1"; }
ko() {
  failed=$((failed + 1)); failures+=("$1")
  printf '  \033[31mFAIL\033[0m %s\n' "$1"
  [[ -n "${2:-}" ]] && printf '%s\n' "$2" | sed 's/^/       /' | head -n 40
  return 0
}
step() { printf '\n\033[1m%s\033[0m\n' "$*"; }
# Adds the "checks: N passed, M failed" line a Python checker prints last.
add_counts() {
  local line; line=$(grep -E '^checks: [0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
  local p f; p=$(sed -E 's/^checks: ([0-9]+) passed.*/\1/' <<<"$line"); f=$(sed -E 's/.*, ([0-9]+) failed/\1/' <<<"$line")
  [[ -z "$line" ]] && { ko "$2: no result line" "$(tail -n 20 "$1")"; return; }
  passed=$((passed + p)); failed=$((failed + f))
  ((f == 0)) || failures+=("$2 ($f)")
}

# Scenarios: the defaults, every ci/*-values.yaml, and every k8s/examples file not already
# among them (ci/ links to the examples).
scenarios=(default)
declare -A scenario_file=([default]="")
for f in "$CHART"/ci/*-values.yaml k8s/examples/*-values.yaml; do
  [[ -e "$f" ]] || continue
  real=$(realpath "$f")
  name=$(basename "$f" -values.yaml)
  [[ -n "${scenario_file[$name]+x}" ]] && continue
  scenarios+=("$name"); scenario_file[$name]=$real
done
values_args() { [[ -n "${scenario_file[$1]}" ]] && printf -- '-f\n%s\n' "${scenario_file[$1]}"; return 0; }

step "1. generated files are current"
if out=$("$PY" scripts/charts/gen-schema.py --check 2>&1); then ok "values.schema.json matches scripts/charts/gen-schema.py"; else ko "values.schema.json is stale" "$out"; fi
if out=$("$PY" scripts/charts/gen-readme.py --check 2>&1); then ok "README.md matches values.yaml (every value documented)"; else ko "chart README is stale or a value is undocumented" "$out"; fi

step "2. helm lint --strict ($(helm version --template '{{.Version}}'), Kubernetes $KUBE)"
for s in "${scenarios[@]}"; do
  mapfile -t args < <(values_args "$s")
  if out=$(helm lint --strict "$CHART" --kube-version "$KUBE" "${args[@]}" 2>&1); then ok "lint: $s"; else ko "lint: $s" "$out"; fi
done

step "3. helm template"
for s in "${scenarios[@]}"; do
  mapfile -t args < <(values_args "$s")
  if helm template toolbus "$CHART" --namespace toolbus-system --kube-version "$KUBE" "${args[@]}" >"$work/$s.yaml" 2>"$work/$s.err"; then
    ok "template: $s ($(grep -c '^kind:' "$work/$s.yaml") resources)"
  else
    ko "template: $s" "$(cat "$work/$s.err")"; rm -f "$work/$s.yaml"
  fi
done

step "4. helm-unittest suites (rendered with helm-unittest's Helm 3 engine)"
unit_out="$work/unittest.log"
helm-unittest --color=false -t JUnit -o "$work/unittest.xml" "$CHART" >"$unit_out" 2>&1 || true
grep -E '^ (PASS|FAIL) ' "$unit_out" | sed 's/^ /  /' || true
if [[ -s "$work/unittest.xml" ]]; then
  read -r up uf < <("$PY" - "$work/unittest.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
tests = fails = 0
for s in suites:
    tests += int(s.get("tests", 0)); fails += int(s.get("failures", 0)) + int(s.get("errors", 0))
print(tests - fails, fails)
EOF
  )
  passed=$((passed + up)); failed=$((failed + uf))
  if ((uf > 0)); then failures+=("helm-unittest ($uf)"); sed -n '/FAIL/,/^Charts:/p' "$unit_out" | head -n 80; fi
  echo "  unit tests: $up passed, $uf failed"
else
  ko "helm-unittest produced no report" "$(tail -n 30 "$unit_out")"
fi

step "5. Kubernetes $KUBE schemas (kubernetes-validate --strict, offline)"
renders=()
for s in "${scenarios[@]}"; do [[ -f "$work/$s.yaml" ]] && renders+=("$work/$s.yaml"); done
for f in "${renders[@]}" k8s/*.yaml; do
  out=$("$PY" scripts/charts/validate-manifests.py "$KUBE" "$f" 2>&1) && rc=0 || rc=$?
  out=${out//$work\//render of }
  if ((rc == 0)); then ok "${out#ok   }"; else ko "schema: ${f//$work\//render of }" "$out"; fi
done

step "6. policy checks"
for s in "${scenarios[@]}"; do
  [[ -f "$work/$s.yaml" ]] || continue
  flags=()
  # A scenario that turns NetworkPolicies off is checked for rendering none instead.
  if [[ -n "${scenario_file[$s]}" ]] && "$PY" -c 'import sys,yaml; v=yaml.safe_load(open(sys.argv[1])) or {}; sys.exit(0 if (v.get("networkPolicy") or {}).get("enabled") is False else 1)' "${scenario_file[$s]}"; then
    flags=(--no-network-policies)
  fi
  "$PY" scripts/charts/policy-test.py render "$work/$s.yaml" "${flags[@]}" >"$work/policy-$s.log" 2>&1 || true
  sed 's/^/  /' "$work/policy-$s.log" | grep -v '^  checks:'
  add_counts "$work/policy-$s.log" "policy: $s"
done
"$PY" scripts/charts/policy-test.py canary "$CHART" "$KUBE" >"$work/canary.log" 2>&1 || true
sed 's/^/  /' "$work/canary.log" | grep -v '^  checks:'
add_counts "$work/canary.log" "canary secrets"

step "7. wrong values are refused with a clear message"
for f in "$CHART"/tests/bad-values/*.yaml; do
  name=$(basename "$f")
  expect=$(sed -n 's/^# expect: //p' "$f" | head -n 1)
  [[ -n "$expect" ]] || { ko "$name: no '# expect:' line"; continue; }
  tmpl_out=$(helm template toolbus "$CHART" --kube-version "$KUBE" -f "$f" 2>&1 >/dev/null) && tmpl_rc=0 || tmpl_rc=$?
  if grep -q '^# refused-by: template' "$f"; then
    # Cross-field rules use `fail`, which helm lint only logs (lint mode tolerates it so
    # charts with required values stay lintable): only rendering can refuse these.
    lint_rc=1 lint_out=$tmpl_out
  else
    lint_out=$(helm lint --strict "$CHART" --kube-version "$KUBE" -f "$f" 2>&1) && lint_rc=0 || lint_rc=$?
  fi
  if ((lint_rc == 0 || tmpl_rc == 0)); then
    ko "$name was accepted (lint rc $lint_rc, template rc $tmpl_rc)"
  elif ! grep -qF -- "$expect" <<<"$lint_out" || ! grep -qF -- "$expect" <<<"$tmpl_out"; then
    ko "$name: refused, but without \"$expect\"" "lint: $lint_out"$'\n'"template: $tmpl_out"
  else
    ok "$name: $expect"
  fi
done

step "8. every variable the chart sets is read by the code it lands in"
export PATH="$("$TOOLBUS_ROOT/scripts/ensure-node.sh"):$PATH"
mapfile -t projects < <(node scripts/charts/config-specs.mjs --projects)
# make test runs with NX_SKIP_NX_CACHE; here the cache is wanted: the earlier tiers built these.
if out=$(env -u NX_SKIP_NX_CACHE NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false npx nx run-many -t build -p "${projects[@]}" --outputStyle=static 2>&1) &&
  node scripts/charts/config-specs.mjs >"$work/specs.json" 2>"$work/specs.err"; then
  env_args=()
  for s in "${scenarios[@]}"; do [[ -f "$work/$s.yaml" ]] && env_args+=("$s=$work/$s.yaml"); done
  "$PY" scripts/charts/env-check.py "$work/specs.json" "${env_args[@]}" >"$work/env.log" 2>&1 || true
  sed 's/^/  /' "$work/env.log" | grep -v '^  checks:'
  add_counts "$work/env.log" "env"
  # The check must be able to fail: a variable no code reads, a required variable never set,
  # and a secret variable delivered in a ConfigMap are each reported by name.
  probe() {
    local what=$1 expect=$2 specs=$3 render=$4
    if "$PY" scripts/charts/env-check.py "$specs" "probe=$render" >"$work/probe.log" 2>&1; then
      ko "env check probe: $what was accepted"
    elif ! grep -qF -- "$expect" "$work/probe.log"; then
      ko "env check probe: $what refused, but without \"$expect\"" "$(grep -v '^  ok' "$work/probe.log")"
    else
      ok "env check probe: $what: $expect"
    fi
  }
  if [[ -f "$work/default.yaml" ]] && helm template toolbus "$CHART" --namespace toolbus-system --kube-version "$KUBE" \
    --set registry.env.NOT_READ_BY_ANY_CODE=1 >"$work/probe-unread.yaml" 2>"$work/probe.err"; then
    probe "a variable no spec declares" "probe: registry: NOT_READ_BY_ANY_CODE is set" "$work/specs.json" "$work/probe-unread.yaml"
    "$PY" -c 'import json,sys; s=json.load(open(sys.argv[1])); s["registry"]["REQUIRED_BY_THE_PROBE"]={"required":True,"secret":False}; s["registry"]["LOG_LEVEL"]["secret"]=True; json.dump(s,open(sys.argv[2],"w"))' "$work/specs.json" "$work/specs-probe.json"
    probe "a required variable never set" "probe: registry: REQUIRED_BY_THE_PROBE is required by its config spec" "$work/specs-probe.json" "$work/default.yaml"
    probe "a secret variable from a ConfigMap" "probe: registry: LOG_LEVEL is a secret but Deployment toolbus-registry sets it from ConfigMap toolbus-registry" "$work/specs-probe.json" "$work/default.yaml"
  else
    ko "env check probes: no render to probe with" "$(cat "$work/probe.err" 2>/dev/null)"
  fi
else
  ko "env check: the services' config specs could not be read (build or import failed)" "$out"$'\n'"$(cat "$work/specs.err" 2>/dev/null)"
fi

step "9. the dashboard and the alerts query only metrics and labels the code registers"
if node scripts/charts/metric-names.mjs >"$work/metrics.json" 2>"$work/metrics.err"; then
  metric_args=()
  for s in "${scenarios[@]}"; do [[ -f "$work/$s.yaml" ]] && metric_args+=("$s=$work/$s.yaml"); done
  dashboard=$CHART/files/dashboards/toolbus.json
  "$PY" scripts/charts/metrics-check.py "$work/metrics.json" "$dashboard" "${metric_args[@]}" >"$work/metrics.log" 2>&1 || true
  sed 's/^/  /' "$work/metrics.log" | grep -v '^  checks:'
  add_counts "$work/metrics.log" "metrics"
  # The check must be able to fail: a metric renamed in the code, and a label it no longer has.
  mprobe() {
    local what=$1 expect=$2 edit=$3
    "$PY" -c "import json,sys; m=json.load(open(sys.argv[1])); $edit; json.dump(m,open(sys.argv[2],'w'))" "$work/metrics.json" "$work/metrics-probe.json"
    if "$PY" scripts/charts/metrics-check.py "$work/metrics-probe.json" "$dashboard" >"$work/mprobe.log" 2>&1; then
      ko "metric check probe: $what was accepted"
    elif ! grep -qF -- "$expect" "$work/mprobe.log"; then
      ko "metric check probe: $what refused, but without \"$expect\"" "$(grep -v '^  ok' "$work/mprobe.log")"
    else
      ok "metric check probe: $what: $expect"
    fi
  }
  mprobe "a metric renamed in the code" "toolbus_bus_consumer_lag is not a metric any code registers" \
    'm["toolbus_bus_lag"]=m.pop("toolbus_bus_consumer_lag")'
  mprobe "a label dropped in the code" "groups by step, which none of its metrics carries" \
    'm["toolbus_policy_refusals_total"]["labels"]=["reason"]'
  mprobe "a histogram queried without its suffix" "toolbus_ask_duration_seconds_bucket is not a metric any code registers" \
    'm["toolbus_ask_duration_seconds"]["type"]="gauge"'
else
  ko "metric check: the code's metric registrations could not be read" "$(cat "$work/metrics.err")"
fi

step "10. the Kafka topics and users follow libs/contracts and the code"
if node scripts/charts/kafka-contract.mjs >"$work/kafka.json" 2>"$work/kafka.err"; then
  kafka_args=()
  for s in "${scenarios[@]}"; do [[ -f "$work/$s.yaml" ]] && kafka_args+=("$s=$work/$s.yaml"); done
  "$PY" scripts/charts/kafka-check.py "$work/kafka.json" k8s/kafka-users.yaml "${kafka_args[@]}" >"$work/kafka.log" 2>&1 || true
  sed 's/^/  /' "$work/kafka.log" | grep -v '^  checks:'
  add_counts "$work/kafka.log" "kafka"
  # The check must be able to fail: a topic added to libs/contracts alone, and a lost ACL.
  "$PY" -c 'import json,sys; c=json.load(open(sys.argv[1])); c["topics"]["newTopic"]="toolbus.new.topic"; c["platform"].append({"name":"toolbus.new.topic","partitions":3,"retentionMs":1}); json.dump(c,open(sys.argv[2],"w"))' "$work/kafka.json" "$work/kafka-probe.json"
  sed '/name: toolbus.invoke.requests, patternType: literal/,+1d' k8s/kafka-users.yaml >"$work/users-probe.yaml"
  kprobe() {
    local what=$1 expect=$2; shift 2
    if "$PY" scripts/charts/kafka-check.py "$@" >"$work/kprobe.log" 2>&1; then
      ko "kafka check probe: $what was accepted"
    elif ! grep -qF -- "$expect" "$work/kprobe.log"; then
      ko "kafka check probe: $what refused, but without \"$expect\"" "$(grep -v '^  ok' "$work/kprobe.log")"
    else
      ok "kafka check probe: $what: $expect"
    fi
  }
  if [[ -f "$work/development.yaml" ]]; then
    kprobe "a topic only libs/contracts has" "no KafkaTopic for toolbus.new.topic" "$work/kafka-probe.json" k8s/kafka-users.yaml "development=$work/development.yaml"
    kprobe "a topic no service is known to use" "newTopic (toolbus.new.topic) is in libs/contracts but SERVICE_IO names no service" "$work/kafka-probe.json" k8s/kafka-users.yaml
  else
    ko "kafka check probes: no development render to probe with"
  fi
  kprobe "an ACL the orchestrator lost" "orchestrator reads toolbus.invoke.requests but may not" "$work/kafka.json" "$work/users-probe.yaml"
else
  ko "kafka check: libs/contracts' topics could not be read" "$(cat "$work/kafka.err")"
fi

printf '{"name":"charts","label":"(lint, render, unit suites, k8s schemas, policy, env, metrics, kafka)","passed":%d,"failed":%d}\n' "$passed" "$failed" >"$reports/charts.checks.json"
echo
if ((failed > 0)); then
  log "charts: $passed passed, $failed failed: ${failures[*]}"
  exit 1
fi
log "charts: $passed passed, 0 failed"
