"""A two-node Ray cluster for the tests, run in its own process.

Ray's client threads must not live in the pytest process: other tests fork it, and a fork taken
while those threads hold a lock deadlocks the child. This process starts the cluster with Ray's own
`ray.cluster_utils.Cluster` (a head and a second node, 1 CPU each, every process on 127.0.0.1),
prints its address and node ids as one JSON line, then obeys one command per line on stdin:
`remove-worker`, `add-worker`, `quit`, answering each with the node ids as a JSON line.
"""

from __future__ import annotations

import json
import sys

from ray.cluster_utils import Cluster

LOOPBACK = {"node_ip_address": "127.0.0.1", "num_cpus": 1}


def main() -> None:
    cluster = Cluster(initialize_head=True, head_node_args={**LOOPBACK, "include_dashboard": False})
    try:
        cluster.add_node(**LOOPBACK)
        cluster.wait_for_nodes()

        def report(**extra: str) -> None:
            nodes = [node.node_id for node in [cluster.head_node, *cluster.worker_nodes]]
            print(json.dumps({**extra, "nodes": nodes}), flush=True)

        report(address=cluster.address)
        for line in sys.stdin:
            command = line.strip()
            if command == "remove-worker":
                (worker,) = cluster.worker_nodes
                cluster.remove_node(worker, allow_graceful=False)
            elif command == "add-worker":
                cluster.add_node(**LOOPBACK)
                cluster.wait_for_nodes()
            elif command == "quit":
                break
            report()
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    main()
