#!/bin/sh
# Start one Kafka node (KRaft) from the environment, as apache/kafka reads it: KAFKA_FOO_BAR=x becomes foo.bar=x
# (a double underscore stays an underscore, a triple one becomes a dash), CLUSTER_ID names the cluster.
# The log directory is formatted once; later starts reuse it.
set -eu
config=/opt/kafka/config/server.properties
: "${CLUSTER_ID:?CLUSTER_ID is required (22 characters of URL-safe base64, the same on every node)}"
: > "$config"
env | sort | while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_HEAP_OPTS|KAFKA_JVM_OPTS|KAFKA_VERSION) ;;
    KAFKA_*)
      key=$(printf '%s' "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
      printf '%s=%s\n' "$key" "$value" >> "$config" ;;
  esac
done
grep -q '^log.dirs=' "$config" || echo "log.dirs=/var/lib/kafka/data" >> "$config"
log_dir=$(sed -n 's/^log.dirs=//p' "$config" | cut -d, -f1)
classpath='/opt/kafka/libs/*'
if [ ! -f "$log_dir/meta.properties" ]; then
  java -cp "$classpath" kafka.tools.StorageTool format --cluster-id="$CLUSTER_ID" -c "$config" --ignore-formatted
fi
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} ${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:TieredStopAtLevel=1} \
  -Dlog4j2.configurationFile=/opt/kafka/log4j2.yaml -cp "$classpath" kafka.Kafka "$config"
