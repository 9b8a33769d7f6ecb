// Native golden-vector runner: `qg_vectors FILE` prints run_vector(FILE) to stdout.
#include <fstream>
#include <iostream>
#include <sstream>

#include "quotagate/vector_runner.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: qg_vectors VECTOR.json\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "qg_vectors: cannot read " << argv[1] << "\n";
    return 2;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::cout << qg::run_vector(text.str());
  return 0;
}
