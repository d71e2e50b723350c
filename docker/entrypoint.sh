#!/usr/bin/env bash
# Role of this container: master | worker | submit [sweep arguments...]
set -euo pipefail
role="${1:-master}"
shift || true
MASTER_URL="${SPARK_MASTER_URL:-spark://master:7077}"
case "$role" in
  master)
    exec "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.master.Master \
      --host "$(hostname)" --port 7077 --webui-port 8080
    ;;
  worker)
    # GPU workers advertise their GPUs through the discovery script (conf/spark-gpu.conf);
    # WORKER_GPUS=0 starts a CPU-only worker.
    extra=()
    if [ "${WORKER_GPUS:-1}" != "0" ]; then
      extra+=(--properties-file "$DR_HOME/conf/spark-gpu.conf")
    fi
    exec "$SPARK_HOME/bin/spark-class" org.apache.spark.deploy.worker.Worker \
      --cores "${WORKER_CORES:-4}" --memory "${WORKER_MEMORY:-16g}" --webui-port 8081 "${extra[@]}" "$MASTER_URL"
    ;;
  submit)
    gpu_conf=()
    if [ "${EXECUTOR_GPUS:-1}" != "0" ]; then
      gpu_conf+=(--conf spark.executor.resource.gpu.amount=1 --conf spark.task.resource.gpu.amount=1
                 --conf spark.executor.cores=1 --conf spark.task.cpus=1)
    fi
    exec "$SPARK_HOME/bin/spark-submit" --master "$MASTER_URL" --deploy-mode client \
      --class io.deepretrieval.spark.cli.Main \
      --driver-memory "${DRIVER_MEMORY:-4g}" --executor-memory "${EXECUTOR_MEMORY:-6g}" \
      --conf spark.executor.memoryOverhead="${EXECUTOR_OVERHEAD:-6g}" \
      --conf "spark.executor.extraJavaOptions=-Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=12G" \
      --conf spark.executorEnv.OMP_WAIT_POLICY=PASSIVE \
      "${gpu_conf[@]}" \
      /opt/deep-retrieval/deep-retrieval-app.jar \
      sweep --config /opt/deep-retrieval/conf/sweep.json --data /data --out /results --workers "${WORKERS:-1}" "$@"
    ;;
  *)
    echo "unknown role '$role': use master, worker or submit" >&2
    exit 2
    ;;
esac
