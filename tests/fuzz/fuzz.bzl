"""fuzz_target: one fuzz target, built two ways.

NAME_fuzzer.cc defines LLVMFuzzerTestOneInput. The macro declares
  NAME_fuzz_test  a cc_test that replays corpus/NAME/ and regressions/NAME/
                  plus seeded mutations through replay_main.cc (any compiler);
  NAME_fuzzer     the libFuzzer binary (tagged manual: only clang links it;
                  tools/fuzz.sh NAME SECONDS builds and runs it).
"""

def fuzz_target(name, deps, mutations = 3000, size = "small"):
    native.cc_library(
        name = name + "_fuzz_lib",
        testonly = True,
        srcs = [name + "_fuzzer.cc"],
        deps = deps + [":fuzz_input"],
        alwayslink = True,
    )
    native.cc_test(
        name = name + "_fuzz_test",
        size = size,
        args = [
            "--mutations=%d" % mutations,
            "tests/fuzz/corpus/" + name,
            "tests/fuzz/regressions/" + name,
        ],
        data = native.glob([
            "corpus/%s/**" % name,
            "regressions/%s/**" % name,
        ]),
        deps = [
            ":" + name + "_fuzz_lib",
            ":replay_main",
        ],
    )
    native.cc_binary(
        name = name + "_fuzzer",
        testonly = True,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = [":" + name + "_fuzz_lib"],
    )
