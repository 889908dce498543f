// Loads a model, runs it on a raw float32 volume, writes the first output (C++ RAII wrapper).
// Usage: run_model_cpp MODEL.vxm INPUT.f32 OUTPUT.f32 N C D H W
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "voxinfer/voxinfer.hpp"

int main(int argc, char** argv) {
  if (argc != 9) {
    std::cerr << "usage: " << argv[0] << " MODEL.vxm INPUT.f32 OUTPUT.f32 N C D H W\n";
    return 2;
  }
  try {
    voxinfer::Model model(argv[1]);
    voxinfer::Session session(model, /*threads=*/0);
    voxinfer::Tensor in;
    size_t n = 1;
    for (int i = 0; i < 5; ++i) n *= static_cast<size_t>(in.shape.emplace_back(std::atoll(argv[4 + i])));
    in.data.resize(n);
    std::ifstream(argv[2], std::ios::binary).read(reinterpret_cast<char*>(in.data.data()), n * sizeof(float));
    const auto out = session.run({in});
    std::ofstream(argv[3], std::ios::binary)
        .write(reinterpret_cast<const char*>(out[0].data.data()), out[0].data.size() * sizeof(float));
    std::cout << "voxinfer " << vx_version() << ": wrote " << out[0].data.size() << " floats to " << argv[3] << "\n";
  } catch (const voxinfer::Error& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
