"""Builds the affinity client; build_py also generates the affinity.v1 stubs.

The message and gRPC modules (package `affinity.v1`, as the .proto package
names them), and server reflection v1's messages (affinity_client.reflection_pb2),
are generated into the build directory from the repository's
proto/affinity/v1/*.proto with Debian's protoc and grpc_python_plugin, whose
output matches python3-protobuf 3.21 and python3-grpcio 1.51 (the protoc
bundled in Debian's python3-grpc-tools is 3.5 and cannot read proto3
`optional`). Nothing is written into the source tree: the build directory
and the egg-info go to a temporary directory removed when setup.py ends.

AFFINITY_PROTO_ROOT overrides where the .proto files are found (default:
../../proto beside this file); PROTOC and GRPC_PYTHON_PLUGIN override the
tools (default: found on PATH).
"""
import atexit
import glob
import os
import shutil
import subprocess
import tempfile

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.join("affinity", "v1")


def proto_root():
    root = os.environ.get("AFFINITY_PROTO_ROOT") or os.path.join(HERE, "..", "..", "proto")
    if not glob.glob(os.path.join(root, PACKAGE, "*.proto")):
        raise SystemExit(
            f"error: no {PACKAGE}/*.proto under {os.path.abspath(root)}: build from a checkout "
            "of the repository (pip install ./clients/python), or set AFFINITY_PROTO_ROOT to "
            "its proto/ directory")
    return root


def tool(env, name, package):
    path = os.environ.get(env) or shutil.which(name)
    if not path or not os.access(path, os.X_OK):
        raise SystemExit(f"error: {name} not found (apt-get install {package}, or set {env})")
    return path


class BuildPyWithStubs(build_py):
    """The usual build_py, then protoc into build_lib/affinity/v1."""

    def run(self):
        super().run()
        root = proto_root()
        protoc = tool("PROTOC", "protoc", "protobuf-compiler")
        plugin = tool("GRPC_PYTHON_PLUGIN", "grpc_python_plugin", "protobuf-compiler-grpc")
        protos = sorted(os.path.relpath(p, root)
                        for p in glob.glob(os.path.join(root, PACKAGE, "*.proto")))
        services = [p for p in protos if _has_service(os.path.join(root, p))]
        out = os.path.abspath(self.build_lib)
        self._protoc([protoc, f"--proto_path={root}", f"--python_out={out}"] + protos)
        self._protoc([protoc, f"--proto_path={root}", f"--plugin=protoc-gen-grpc_python={plugin}",
                      f"--grpc_python_out={out}"] + services)
        # Server reflection v1's messages (affinity-list-services), as the
        # module affinity_client.reflection_pb2: under grpc/ they would be
        # hidden by the grpc package.
        reflection = os.path.join(root, "grpc", "reflection", "v1")
        self._protoc([protoc, f"--proto_path={reflection}",
                      f"--python_out={os.path.join(out, 'affinity_client')}",
                      os.path.join(reflection, "reflection.proto")])
        for package in ("affinity", PACKAGE):
            init = os.path.join(out, package, "__init__.py")
            with open(init, "w", encoding="utf-8") as f:
                f.write('"""Generated from proto/affinity/v1 by setup.py."""\n')

    def _protoc(self, command):
        self.announce(" ".join(command), level=2)
        try:
            subprocess.run(command, check=True)
        except subprocess.CalledProcessError as e:
            raise SystemExit(f"error: protoc failed (exit {e.returncode}): {' '.join(command)}")


def _has_service(path):
    with open(path, encoding="utf-8") as f:
        return any(line.startswith("service ") for line in f)


def scratch_dir():
    path = tempfile.mkdtemp(prefix="affinity-client-build-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


_SCRATCH = scratch_dir()
setup(cmdclass={"build_py": BuildPyWithStubs},
      options={"build": {"build_base": os.path.join(_SCRATCH, "build")},
               "egg_info": {"egg_base": _SCRATCH}})
