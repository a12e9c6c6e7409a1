# Where the chart tools live and which versions are wanted. Sourced (after ../lib.sh), never run.
# Every version can be overridden from the environment.
HELM_VERSION=${TOOLBUS_HELM_VERSION:-v4.2.4}
HELM_UNITTEST_VERSION=${TOOLBUS_HELM_UNITTEST_VERSION:-v1.1.2}
KUBERNETES_VALIDATE_VERSION=${TOOLBUS_KUBERNETES_VALIDATE_VERSION:-1.37.0}
# The Kubernetes version the chart is rendered and validated for.
CHARTS_KUBE_VERSION=${TOOLBUS_CHARTS_KUBE_VERSION:-1.33.0}

CHARTS_TOOLS="$TOOLBUS_CACHE/charts"
CHARTS_BIN="$CHARTS_TOOLS/bin"
CHARTS_VENV="$CHARTS_TOOLS/venv"
export PATH="$CHARTS_BIN:$CHARTS_VENV/bin:$PATH"
