// A main() for the fuzz targets that needs no libFuzzer, so the normal test
// suite (gcc, any sanitizer config) runs every target briefly:
//
//   TARGET_replay [--mutations=N] [--seed=S] CORPUS_DIR [MORE_DIRS_OR_FILES...]
//
// Runs LLVMFuzzerTestOneInput on every file of the arguments (the seed
// corpus, then the regression inputs), then on N inputs made from them by
// seeded random edits (bit flips, byte sets from a list of bytes parsers
// care about, inserts, deletes, duplicated ranges, splices of two inputs).
// The same seed gives the same inputs. Exits 1 when CORPUS_DIR holds no
// file: a wrong path would otherwise make the test pass without testing.
// A crash, failed FUZZ_CHECK or sanitizer report fails the run, as it is a
// finding of the fuzzer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

std::vector<std::string> ReadInputs(const std::string& path, std::vector<std::string>* names) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const fs::directory_entry& e : fs::recursive_directory_iterator(path, ec)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  }
  std::sort(files.begin(), files.end());
  std::vector<std::string> inputs;
  for (const fs::path& f : files) {
    std::ifstream in(f, std::ios::binary);
    inputs.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    names->push_back(f.string());
  }
  return inputs;
}

void RunOne(const std::string& input) {
  // A copy of exactly `size` bytes on the heap, so that AddressSanitizer
  // catches a read past the end, as under libFuzzer.
  std::vector<uint8_t> bytes(input.begin(), input.end());
  LLVMFuzzerTestOneInput(bytes.empty() ? nullptr : bytes.data(), bytes.size());
}

std::string Mutate(const std::vector<std::string>& pool, std::mt19937_64& rng) {
  static const char kBytes[] = {'\0', '\n', '\r', ',', '\t', ' ', '"', ':', '{', '}', '[',
                                ']',  '-',  '.',  'e', '0',  '9', '|', '%', '=', '\\',
                                '\x7f', '\x80', '\xbf', '\xc0', '\xc3', '\xe9', '\xed',
                                '\xef', '\xf4', '\xf5', '\xff'};
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  std::string s = pool[pick(pool.size())];
  const int edits = 1 + static_cast<int>(pick(4));
  for (int e = 0; e < edits; ++e) {
    const size_t at = s.empty() ? 0 : pick(s.size() + 1);
    switch (pick(6)) {
      case 0:  // flip a bit
        if (!s.empty()) s[std::min(at, s.size() - 1)] ^= static_cast<char>(1u << pick(8));
        break;
      case 1:  // set a byte
        if (!s.empty()) s[std::min(at, s.size() - 1)] = kBytes[pick(sizeof(kBytes))];
        break;
      case 2:  // insert bytes
        s.insert(at, 1 + pick(3), kBytes[pick(sizeof(kBytes))]);
        break;
      case 3:  // delete a range
        if (!s.empty()) s.erase(std::min(at, s.size() - 1), 1 + pick(16));
        break;
      case 4: {  // duplicate a range
        if (s.empty()) break;
        const size_t from = pick(s.size());
        const std::string range = s.substr(from, 1 + pick(32));
        s.insert(at, range);
        break;
      }
      default: {  // splice with another input
        const std::string& other = pool[pick(pool.size())];
        const size_t from = other.empty() ? 0 : pick(other.size());
        s = s.substr(0, at) + other.substr(from);
        break;
      }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 2000;
  unsigned long long seed = 1;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--mutations=", 0) == 0) {
      mutations = std::strtol(arg.c_str() + 12, nullptr, 10);
    } else if (arg.rfind("--seed=", 0) == 0) {
      seed = std::strtoull(arg.c_str() + 7, nullptr, 10);
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "usage: %s [--mutations=N] [--seed=S] CORPUS_DIR [DIR_OR_FILE...]\n",
                 argv[0]);
    return 2;
  }
  std::vector<std::string> pool;
  std::vector<std::string> names;
  for (size_t p = 0; p < paths.size(); ++p) {
    std::vector<std::string> inputs = ReadInputs(paths[p], &names);
    if (p == 0 && inputs.empty()) {
      std::fprintf(stderr, "%s: no corpus files, expected at least one\n", paths[p].c_str());
      return 1;
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
      RunOne(inputs[i]);
      pool.push_back(std::move(inputs[i]));
    }
  }
  std::mt19937_64 rng(seed);
  for (long i = 0; i < mutations; ++i) RunOne(Mutate(pool, rng));
  std::printf("%zu files and %ld mutations (seed %llu) ran without a finding\n", pool.size(),
              mutations, seed);
  return 0;
}
