#!/usr/bin/python3
"""Lists an affinity server's gRPC services and their methods through server reflection.

    list_services.py [--server 127.0.0.1:50051] [--api v1|v1alpha] [--stubs_dir DIR]

Needs reflection_pb2 made by generate_stubs.sh (--stubs_dir, default ./gen) and
Debian's python3-grpcio and python3-protobuf (Debian ships no grpc_reflection
module; v1 and v1alpha have the same messages, so one module serves both).
Prints each service, then one "  Method(Request) returns (Response)" line per
method whose schema the server holds; exits 1 when the server cannot be asked.
"""
import argparse
import os
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument("--api", choices=["v1", "v1alpha"], default="v1")
    parser.add_argument("--stubs_dir", default=os.path.join(os.path.dirname(__file__), "gen"))
    parser.add_argument("--timeout_s", type=float, default=5.0)
    args = parser.parse_args()

    sys.path.insert(0, args.stubs_dir)
    import grpc
    import reflection_pb2
    from google.protobuf import descriptor_pb2

    def ask(channel, requests):
        """One reflection stream: a response per request, in order."""
        info = channel.stream_stream(
            f"/grpc.reflection.{args.api}.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
        return list(info(iter(requests), timeout=args.timeout_s))

    with grpc.insecure_channel(args.server) as channel:
        try:
            [listing] = ask(channel, [reflection_pb2.ServerReflectionRequest(list_services="")])
            names = sorted(s.name for s in listing.list_services_response.service)
            answers = ask(channel, [reflection_pb2.ServerReflectionRequest(
                file_containing_symbol=name) for name in names])
        except grpc.RpcError as e:
            print(f"error: {e.code().name}: {e.details()}", file=sys.stderr)
            return 1

    for name, answer in zip(names, answers):
        print(name)
        for blob in answer.file_descriptor_response.file_descriptor_proto:
            file = descriptor_pb2.FileDescriptorProto.FromString(blob)
            for service in file.service:
                if f"{file.package}.{service.name}" != name:
                    continue
                for method in service.method:
                    print(f"  {method.name}({method.input_type.lstrip('.')}) "
                          f"returns ({method.output_type.lstrip('.')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
