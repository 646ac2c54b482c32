"""affinity-recommend: asks an affinity server for recommendations or similar items.

    affinity-recommend --user U [--k 10] [--recent item:weight,...] [--exclude a,b]
                       [--rule_set NAME] [--filters_json '[{"attribute":"price","max":50}]']
    affinity-recommend --item I [--k 10] ...
    (either with [--tls_ca CA.pem] [--tls_cert CERT.pem --tls_key KEY.pem] for a TLS server)

Prints the model version, the A/B arm and one "rank item_id score" line per
item ("(fallback)" after items from the most-popular fallback). Exit codes:
0 success, 2 bad flags, INVALID_ARGUMENT or NOT_FOUND, 1 other errors.
"""
import argparse
import json
import sys

from affinity_client.client import Client
from affinity_client.errors import AffinityError, ConfigError


def parse_recent(text):
    """'a:1,b:2.5' -> [('a', 1.0), ('b', 2.5)]; raises ConfigError naming the entry."""
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
            raise ConfigError(f"--recent entry {n} {entry!r}: expected item:weight, weight >= 0")
        out.append((item, value))
    return out


def parse_filters(text):
    """A JSON array of proto-JSON Filter objects; raises ConfigError."""
    if not text.strip():
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"--filters_json: {e.msg} at column {e.colno}, expected a JSON array "
                          'such as [{"attribute":"price","max":50}]') from None
    if not isinstance(value, list):
        raise ConfigError("--filters_json: expected a JSON array of filters")
    return value


def parser():
    p = argparse.ArgumentParser(prog="affinity-recommend", description=__doc__.splitlines()[0])
    p.add_argument("--server", default="127.0.0.1:50051", help="the server's --listen address")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="recommend for this user")
    target.add_argument("--item", help="items similar to this item")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--recent", default="", help="item:weight,... (with --user)")
    p.add_argument("--exclude", default="", help="item ids never to return, comma-separated")
    p.add_argument("--rule_set", default="")
    p.add_argument("--filters_json", default="", help="JSON array of request filters")
    p.add_argument("--explain", action="store_true", help="print why each item is there")
    p.add_argument("--timeout_s", type=float, default=2.0)
    p.add_argument("--tls_ca", help="PEM CA that signed the server's certificate")
    p.add_argument("--tls_cert", help="PEM client certificate (mutual TLS)")
    p.add_argument("--tls_key", help="PEM private key of --tls_cert")
    return p


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        exclude = [i for i in args.exclude.split(",") if i]
        filters = parse_filters(args.filters_json)
        with Client(args.server, tls_ca=args.tls_ca, tls_cert=args.tls_cert,
                    tls_key=args.tls_key, timeout=args.timeout_s) as client:
            if args.user is not None:
                answer = client.recommend(args.user, args.k, recent=parse_recent(args.recent),
                                          exclude=exclude, rule_set=args.rule_set,
                                          filters=filters, explain=args.explain)
            else:
                answer = client.similar(args.item, args.k, exclude=exclude,
                                        rule_set=args.rule_set, filters=filters,
                                        explain=args.explain)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except AffinityError as e:
        print(f"error: {e.code}: {e.details}", file=sys.stderr)
        return 2 if e.code in ("INVALID_ARGUMENT", "NOT_FOUND") else 1

    print(f"model_version={answer.model_version} arm={answer.arm} fallback={answer.fallback}")
    for rank, item in enumerate(answer.items, start=1):
        marker = " (fallback)" if item.from_fallback else ""
        print(f"{rank} {item.item_id} {item.score:.4f}{marker}")
        if item.explanation:
            print(f"    {item.explanation}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
