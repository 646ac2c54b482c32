#!/usr/bin/python3
"""Asks an affinity server for recommendations or similar items.

    recommend.py --user U [--k 10] [--recent item:weight,...] [--rule_set NAME]
    recommend.py --item I [--k 10]
    (either with [--tls_ca CA.pem] [--tls_cert CERT.pem --tls_key KEY.pem] for a TLS server)

Needs the stubs made by generate_stubs.sh (--stubs_dir, default ./gen) and
Debian's python3-grpcio and python3-protobuf. Prints the model version, the
A/B arm and one "rank item_id score" line per item; exits 2 on
INVALID_ARGUMENT / NOT_FOUND, 1 on other errors.
"""
import argparse
import os
import sys


def parse_recent(text):
    """'a:1,b:2.5' -> [('a', 1.0), ('b', 2.5)]; raises ValueError naming the entry."""
    out = []
    if not text.strip():
        return out
    for n, entry in enumerate(text.split(","), start=1):
        item, sep, weight = entry.strip().rpartition(":")
        try:
            value = float(weight)
        except ValueError:
            value = -1.0
        if not sep or not item or not value >= 0:
            raise ValueError(f"--recent entry {n} {entry!r}: expected item:weight, weight >= 0")
        out.append((item, value))
    return out


def read_bytes(flag, path):
    """The file's bytes, or None for no path; raises ValueError naming the flag."""
    if not path:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ValueError(f"{flag} {path}: cannot read it ({e.strerror})")


def open_channel(grpc, args):
    """Plaintext without TLS flags; TLS (server checked against --tls_ca, or the
    system's roots) with any of them."""
    if not (args.tls_ca or args.tls_cert or args.tls_key):
        return grpc.insecure_channel(args.server)
    if bool(args.tls_cert) != bool(args.tls_key):
        raise ValueError("--tls_cert and --tls_key: give both or neither")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=read_bytes("--tls_ca", args.tls_ca),
        private_key=read_bytes("--tls_key", args.tls_key),
        certificate_chain=read_bytes("--tls_cert", args.tls_cert))
    return grpc.secure_channel(args.server, credentials)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument("--stubs_dir", default=os.path.join(os.path.dirname(__file__), "gen"))
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="recommend for this user")
    target.add_argument("--item", help="items similar to this item")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--recent", default="", help="item:weight,... (with --user)")
    parser.add_argument("--rule_set", default="")
    parser.add_argument("--timeout_s", type=float, default=2.0)
    parser.add_argument("--tls_ca", default="", help="PEM CA that signed the server's certificate")
    parser.add_argument("--tls_cert", default="", help="PEM client certificate (mutual TLS)")
    parser.add_argument("--tls_key", default="", help="PEM private key of --tls_cert")
    args = parser.parse_args()

    sys.path.insert(0, args.stubs_dir)
    import grpc
    from affinity.v1 import recommender_pb2, recommender_pb2_grpc

    try:
        recent = parse_recent(args.recent)
        channel = open_channel(grpc, args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    with channel:
        stub = recommender_pb2_grpc.RecommenderStub(channel)
        try:
            if args.user is not None:
                request = recommender_pb2.RecommendRequest(
                    user_id=args.user, k=args.k, rule_set=args.rule_set,
                    recent=[recommender_pb2.Interaction(item_id=i, weight=w) for i, w in recent])
                response = stub.Recommend(request, timeout=args.timeout_s)
            else:
                request = recommender_pb2.SimilarItemsRequest(
                    item_id=args.item, k=args.k, rule_set=args.rule_set)
                response = stub.SimilarItems(request, timeout=args.timeout_s)
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            bad_request = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND)
            return 2 if e.code() in bad_request else 1

    print(f"model_version={response.model_version} arm={response.arm} "
          f"fallback={response.fallback}")
    for rank, item in enumerate(response.items, start=1):
        marker = " (fallback)" if item.from_fallback else ""
        print(f"{rank} {item.item_id} {item.score:.4f}{marker}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
