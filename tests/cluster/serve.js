// The whole cluster as one server command, for tests/js/run.sh: redis-server, 3 conformance
// nodes and a round-robin nginx listening on $PORT, until SIGTERM (then stopped by PID).
//
//   FERRIO_SERVER_CMD="node tests/cluster/serve.js" bash tests/js/run.sh
//
// runs the whole Socket.IO contract against several conformance servers exactly as against one.
import { startCluster } from "./harness.js";

const port = Number(process.env.PORT || 3111);
const cluster = await startCluster(3, port);
console.log(`cluster listening on ${cluster.url} (nodes ${cluster.nodes.map((n) => n.port).join(", ")})`);
const stop = async () => {
  await cluster.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
