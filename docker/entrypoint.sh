#!/usr/bin/env bash
# Role of this container: master | worker | submit [sweep arguments...] | serve [serve options...] | gpu-check
# Every role is a plain JVM on $SPARK_HOME/jars (the project's dependency jars and its own two jars), started
# through Spark's own classes: deploy.master.Master, deploy.worker.Worker, deploy.SparkSubmit.
set -euo pipefail
role="${1:-master}"
shift || true
MASTER_URL="${SPARK_MASTER_URL:-spark://master:7077}"
CP="$SPARK_HOME/jars/*"
LOG_CONF="-Dlog4j2.configurationFile=$SPARK_HOME/conf/log4j2.properties"
# Spark on Java 17 needs these opens (the list Spark's own launcher adds; the same as java17.opens in pom.xml).
OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED \
--add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
--add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED \
--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
--add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED \
--add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
-Djdk.reflect.useDirectMethodHandle=false"

# GPU_POLICY (prefer | require | off): what a GPU worker does when ND4J's CUDA 11.6 backend cannot drive its
# device (compute capability >= 9.0, see io.deepretrieval.spark.gpu.GpuCompatibility and README). The check
# prints "gpu" or "cpu"; "cpu" makes ND4J load its CPU backend in every executor this worker starts (executors
# inherit the worker's environment). With "require" an unsupported device stops the worker with the reason.
gpu_check() {
  # shellcheck disable=SC2086
  java -Xmx64m -XX:TieredStopAtLevel=1 -cp "$CP" io.deepretrieval.spark.gpu.GpuCompatibility \
    --policy "${GPU_POLICY:-prefer}"
}

case "$role" in
  master)
    # shellcheck disable=SC2086
    exec java -Xmx"${MASTER_MEMORY:-512m}" $OPENS "$LOG_CONF" -cp "$CP" org.apache.spark.deploy.master.Master \
      --host "$(hostname)" --port 7077 --webui-port 8080
    ;;
  worker)
    # GPU workers advertise their GPUs through the discovery script (conf/spark-gpu.conf);
    # WORKER_GPUS=0 starts a CPU-only worker.
    extra=()
    if [ "${WORKER_GPUS:-1}" != "0" ]; then
      extra+=(--properties-file "$DR_HOME/conf/spark-gpu.conf")
      if [ "${GPU_POLICY:-prefer}" != "off" ]; then
        backend=$(gpu_check) || exit 1
        if [ "$backend" = "cpu" ]; then
          export BACKEND_PRIORITY_CPU=1000 BACKEND_PRIORITY_GPU=0
        fi
      fi
    fi
    # shellcheck disable=SC2086
    exec java -Xmx"${WORKER_DAEMON_MEMORY:-512m}" $OPENS "$LOG_CONF" -cp "$CP" org.apache.spark.deploy.worker.Worker \
      --cores "${WORKER_CORES:-4}" --memory "${WORKER_MEMORY:-16g}" --work-dir "$SPARK_HOME/work" \
      --webui-port 8081 "${extra[@]}" "$MASTER_URL"
    ;;
  submit)
    gpu_conf=()
    if [ "${EXECUTOR_GPUS:-1}" != "0" ]; then
      gpu_conf+=(--conf spark.executor.resource.gpu.amount=1 --conf spark.task.resource.gpu.amount=1
                 --conf spark.executor.cores=1 --conf spark.task.cpus=1)
    fi
    app_jar=$(ls "$SPARK_HOME"/jars/deep-retrieval-spark-job-*.jar)
    # client mode: this JVM is the driver, so its heap is set here (spark-submit's --driver-memory would be late).
    # shellcheck disable=SC2086
    exec java -Xmx"${DRIVER_MEMORY:-4g}" $OPENS "$LOG_CONF" -cp "$CP" org.apache.spark.deploy.SparkSubmit \
      --master "$MASTER_URL" --deploy-mode client \
      --class io.deepretrieval.spark.cli.Main \
      --executor-memory "${EXECUTOR_MEMORY:-6g}" \
      --conf spark.executor.memoryOverhead="${EXECUTOR_OVERHEAD:-6g}" \
      --conf "spark.executor.extraJavaOptions=$OPENS $LOG_CONF -Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=12G" \
      --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE \
      --conf spark.task.maxFailures="${TASK_MAX_FAILURES:-4}" \
      "${gpu_conf[@]}" \
      "local:$app_jar" \
      sweep --config /opt/deep-retrieval/conf/sweep.json --data /data --out /results --workers "${WORKERS:-1}" "$@"
    ;;
  serve)
    # The model server on port 8080 of every interface: the newest numbered version under $MODEL_ROOT (mounted
    # read-only), and newer versions swapped in as they appear. Loading reads the model with a local Spark session.
    # shellcheck disable=SC2086
    exec java -Xmx"${SERVE_MEMORY:-2g}" $OPENS "$LOG_CONF" -cp "$CP" io.deepretrieval.spark.cli.Main serve \
      --model-root "${MODEL_ROOT:-/models}" --host 0.0.0.0 --port 8080 --poll-seconds "${POLL_SECONDS:-10}" "$@"
    ;;
  gpu-check)
    gpu_check
    ;;
  *)
    echo "unknown role '$role': use master, worker, submit, serve or gpu-check" >&2
    exit 2
    ;;
esac
