"""Compiles .proto files with the system protoc (and grpc_cpp_plugin) into a cc_library.

Debian's protoc 3.21 and grpc_cpp_plugin 1.51 match the system libraries the
generated code links against; no protoc is downloaded.
"""

def cc_proto(name, srcs, deps = [], grpc = False, visibility = None):
    """Generates <src>.pb.{h,cc} (and .grpc.pb.{h,cc} when grpc) for srcs.

    srcs are paths relative to this package, which is the proto root: a file
    `affinity/v1/x.proto` is imported and included as `affinity/v1/x.pb.h`.
    deps are other cc_proto targets whose protos srcs import.
    """
    outs = []
    for src in srcs:
        base = src[:-len(".proto")]
        outs += [base + ".pb.h", base + ".pb.cc"]
        if grpc:
            outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]

    root = native.package_name()
    out_dir = "$(GENDIR)/" + root if root else "$(GENDIR)"
    cmd = "/usr/bin/protoc --proto_path=" + (root if root else ".") + " --cpp_out=" + out_dir
    if grpc:
        cmd += " --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin --grpc_out=" + out_dir
    cmd += " " + " ".join(["$(location %s)" % s for s in srcs])

    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = outs,
        cmd = cmd,
        message = "protoc " + " ".join(srcs),
    )
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs,
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        includes = ["."],
        deps = deps + ["//third_party:protobuf"] + (["//third_party:grpc"] if grpc else []),
        visibility = visibility,
    )
