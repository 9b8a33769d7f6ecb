// Golden vectors: each tests/vectors/NAME.json replayed natively must print exactly
// tests/vectors/NAME.expected.json. The node suite checks the wasm build against the same files,
// so the two builds are byte-identical. Regenerate with `npm run vectors:update` after review.
#include <dirent.h>

#include <fstream>
#include <sstream>

#include "quotagate/vector_runner.hpp"
#include "test_util.hpp"

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

TEST(GoldenVectors, NativeOutputMatchesExpectedFiles) {
  const std::string dir = QG_VECTORS_DIR;
  DIR* d = opendir(dir.c_str());
  ASSERT_NE(d, nullptr) << dir;
  int checked = 0;
  while (dirent* ent = readdir(d)) {
    const std::string name = ent->d_name;
    if (name.size() < 6 || name.substr(name.size() - 5) != ".json" || name.find(".expected.") != std::string::npos) continue;
    const std::string base = name.substr(0, name.size() - 5);
    const std::string expected = slurp(dir + "/" + base + ".expected.json");
    const std::string actual = qg::run_vector(slurp(dir + "/" + name));
    EXPECT_FALSE(expected.empty()) << base << ": missing expected file";
    EXPECT_EQ(actual, expected) << base;
    EXPECT_NE(actual.rfind("{\n  \"error\"", 0), 0u) << base << ": " << actual.substr(0, 300);
    ++checked;
  }
  closedir(d);
  EXPECT_GE(checked, 4);
}
