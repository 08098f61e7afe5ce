#!/bin/sh
# The image's entry point (under tini as PID 1): one process of Dealgate, chosen by its arguments.
#   api SERVICE          gunicorn serving services.SERVICE.app on 0.0.0.0:DEALGATE_HTTP_PORT (default: 8001,
#                        8002, 8003 for catalog, deals, conflict); SIGTERM lets it drain for graceful_timeout
#   WORKER SERVICE       python -m services.SERVICE.workers.WORKER, for every worker module the service has
#                        (relay, consume, expire, webhooks, ...: what deploy/stack.py runs)
#   migrate SERVICE      python -m services.SERVICE.workers.migrate, retried while the database starts
#   seed-catalog URL     the demo catalog through the catalog API at URL (development tokens only)
#   token|erase ARGS     the dealgate command line (shared/cli.py)
#   healthcheck          what HEALTHCHECK runs: an API answers /healthz; a worker counts as healthy while it runs
set -eu
cd /app

usage() {
  echo "usage: api SERVICE | WORKER SERVICE | migrate SERVICE | seed-catalog URL | token|erase ARGS | healthcheck" >&2
  echo "services: catalog, deals, conflict; workers per service: $(cd services && ls */workers/*.py \
        | sed -n 's#^\([a-z]*\)/workers/\([a-z]*\)\.py$#\1:\2#p' | grep -v ':__init__' | tr '\n' ' ')" >&2
  exit 64
}

default_port() {
  case "$1" in catalog) echo 8001 ;; deals) echo 8002 ;; conflict) echo 8003 ;; *) echo 8000 ;; esac
}

role=${1:-}
[ -n "$role" ] || usage
shift

case "$role" in
  api)
    service=${1:-}
    [ -f "services/$service/app.py" ] || usage
    export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus-$service}"
    exec python -m gunicorn -c deploy/gunicorn.conf.py --worker-tmp-dir /tmp \
      --bind "0.0.0.0:${DEALGATE_HTTP_PORT:-$(default_port "$service")}" "services.$service.app:create_app()"
    ;;
  migrate)
    # Retried while the database is still starting (compose starts everything at once); a migration that keeps
    # failing ends the container with its exit status after DEALGATE_MIGRATE_WAIT_S (60) seconds.
    service=${1:-}
    [ -n "$service" ] && [ -f "services/$service/workers/migrate.py" ] || usage
    deadline=$(( $(date +%s) + ${DEALGATE_MIGRATE_WAIT_S:-60} ))
    until python -m "services.$service.workers.migrate"; do
      status=$?
      [ "$(date +%s)" -lt "$deadline" ] || exit "$status"
      echo "dealgate $service migrate: exit $status; retrying in 2 s" >&2
      sleep 2
    done
    echo "dealgate $service migrate: the schema is at head" >&2
    ;;
  seed-catalog)
    exec python -m deploy.seed_catalog --url "${1:?the catalog API URL}"
    ;;
  token|erase)
    exec python -m shared.cli "$role" "$@"
    ;;
  healthcheck)
    # PID 1 is tini; its arguments are this script's: "tini -- entrypoint.sh ROLE SERVICE".
    set -- $(tr '\0' ' ' </proc/1/cmdline)
    while [ $# -gt 0 ] && [ "${1##*/}" != "entrypoint.sh" ]; do shift; done
    [ $# -gt 0 ] && shift
    case "${1:-}" in
      api) port=${DEALGATE_HTTP_PORT:-$(default_port "${2:-}")} ;;
      migrate|seed-catalog|token|erase|"") exit 0 ;;
      # a relay, consumer or job: its own /healthz (shared/worker_health.py) if it serves one, else it runs
      *) port=${DEALGATE_WORKER_HEALTH_PORT:-0}; [ "$port" != 0 ] || exit 0 ;;
    esac
    exec python -c 'import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=4).read()' "$port"
    ;;
  *)
    service=${1:-}
    case "$role" in *[!a-z_]*|__init__) usage ;; esac
    [ -n "$service" ] && [ -f "services/$service/workers/$role.py" ] || usage
    exec python -m "services.$service.workers.$role"
    ;;
esac
