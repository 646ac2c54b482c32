#!/usr/bin/python3
"""Waits until a gRPC server's grpc.health.v1 Check("") answers SERVING.

    wait_for_serving.py --server 127.0.0.1:PORT [--timeout_s 30] [--pid PID]

Calls the health service without generated stubs: HealthCheckRequest{service:""}
encodes to no bytes and HealthCheckResponse{status: SERVING(1)} to 08 01.
Exits 0 once SERVING, 1 on timeout or when process PID has exited.
"""
import argparse
import os
import sys
import time

import grpc

SERVING = b"\x08\x01"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True)
    parser.add_argument("--timeout_s", type=float, default=30)
    parser.add_argument("--pid", type=int, default=0)
    args = parser.parse_args()

    deadline = time.monotonic() + args.timeout_s
    last = "no answer"
    with grpc.insecure_channel(args.server) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=lambda b: b,
                                    response_deserializer=lambda b: b)
        while time.monotonic() < deadline:
            if args.pid:
                try:
                    os.kill(args.pid, 0)
                except ProcessLookupError:
                    print(f"server process {args.pid} exited", file=sys.stderr)
                    return 1
            try:
                answer = check(b"", timeout=1.0)
                if answer == SERVING:
                    return 0
                last = f"status bytes {answer!r}"
            except grpc.RpcError as e:
                last = f"{e.code().name}: {e.details()}"
            time.sleep(0.1)
    print(f"{args.server} not SERVING after {args.timeout_s}s ({last})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
