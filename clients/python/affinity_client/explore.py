"""affinity-list-services: lists a server's gRPC services and methods through server reflection.

    affinity-list-services [--server 127.0.0.1:50051] [--api v1|v1alpha]
                           [--tls_ca CA.pem] [--tls_cert CERT.pem --tls_key KEY.pem]

Asks grpc.reflection.v1 (default) or v1alpha, which share their messages, with
the reflection messages generated at build time (Debian's python3-grpcio has no
grpc_reflection module). Prints each service, then one
"  Method(Request) returns (Response)" line per method whose schema the server
holds. The file descriptors it receives are
google.protobuf.descriptor_pb2.FileDescriptorProto messages, from which a
client could also build requests without stubs. Exit codes: 0 success, 2 bad
flags, 1 the server could not be asked.
"""
import argparse
import sys

import grpc
from google.protobuf import descriptor_pb2

from affinity_client import reflection_pb2
from affinity_client.channel import open_channel, settings
from affinity_client.errors import ConfigError


def describe(channel, api, timeout_s):
    """[(service, [method line, ...]), ...] sorted by service name."""

    def ask(requests):
        info = channel.stream_stream(
            f"/grpc.reflection.{api}.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
        return list(info(iter(requests), timeout=timeout_s))

    [listing] = ask([reflection_pb2.ServerReflectionRequest(list_services="")])
    names = sorted(s.name for s in listing.list_services_response.service)
    answers = ask([reflection_pb2.ServerReflectionRequest(file_containing_symbol=name)
                   for name in names])
    out = []
    for name, answer in zip(names, answers):
        methods = []
        for blob in answer.file_descriptor_response.file_descriptor_proto:
            file = descriptor_pb2.FileDescriptorProto.FromString(blob)
            for service in file.service:
                if f"{file.package}.{service.name}" != name:
                    continue
                for method in service.method:
                    methods.append(f"  {method.name}({method.input_type.lstrip('.')}) "
                                   f"returns ({method.output_type.lstrip('.')})")
        out.append((name, methods))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument("--api", choices=["v1", "v1alpha"], default="v1")
    parser.add_argument("--timeout_s", type=float, default=5.0)
    parser.add_argument("--tls_ca")
    parser.add_argument("--tls_cert")
    parser.add_argument("--tls_key")
    args = parser.parse_args(argv)
    try:
        channel_settings = settings(False, args.tls_ca, args.tls_cert, args.tls_key)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with open_channel(args.server, channel_settings) as channel:
        try:
            services = describe(channel, args.api, args.timeout_s)
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1
    for name, methods in services:
        print(name)
        for line in methods:
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
