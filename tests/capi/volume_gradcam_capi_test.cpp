// The volume and Grad-CAM C API: misuse gives a status and a message and leaves no file,
// volumes round-trip with their geometry and match nibabel, Grad-CAM matches PyTorch autograd
// (fixtures from tests/capi/gen_volcam_fixtures.py) with one map per input of a dual encoder.
#include <doctest/doctest.h>
#include <dirent.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "voxinfer/voxinfer.h"

namespace {

const std::string kFx = std::string(VX_FIXTURE_DIR) + "/volcam";
const std::string kT1 = std::string(VX_TEST_DATA_DIR) + "/mri/spine-cervical-sct/t1/t1w.nii.gz";

std::string err() { return vx_last_error(); }

// What the generator wrote beside a model: PyTorch's class, Grad-CAM and Grad-CAM++ maxima.
nlohmann::json fixture_json(const std::string& name) {
  std::ifstream f(kFx + "/" + name + ".json");
  REQUIRE_MESSAGE(f.good(), "missing fixture " << kFx << "/" << name << ".json");
  return nlohmann::json::parse(f);
}

template <class T>
std::vector<T> read_raw(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  REQUIRE_MESSAGE(f.good(), "missing fixture " << path);
  const auto n = static_cast<size_t>(f.tellg());
  std::vector<T> v(n / sizeof(T));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n));
  return v;
}

// A fresh empty folder under /tmp, removed (with its files) at scope exit.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/vx_volcam_XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    for (const auto& f : files()) std::remove((path + "/" + f).c_str());
    rmdir(path.c_str());
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d))
        if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.push_back(e->d_name);
      closedir(d);
    }
    return out;
  }
  std::string file(const std::string& name, const std::string& bytes) const {
    const std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
};


struct Loaded {
  vx_model* model = nullptr;
  vx_session* session = nullptr;
  explicit Loaded(const std::string& path, int deterministic = 0) {
    REQUIRE_MESSAGE(vx_model_load(path.c_str(), nullptr, &model) == VX_OK, err());
    vx_session_options so;
    CHECK(vx_session_options_init(&so) == VX_OK);
    so.deterministic = deterministic;
    so.threads = 1;
    REQUIRE_MESSAGE(vx_session_create(model, &so, &session) == VX_OK, err());
  }
  ~Loaded() {
    CHECK(vx_session_free(session) == VX_OK);
    CHECK(vx_model_free(model) == VX_OK);
  }
};

struct Inputs {
  std::vector<std::vector<float>> data;
  std::vector<std::vector<int64_t>> shapes;
  std::vector<const float*> ptrs;
  std::vector<const int64_t*> shape_ptrs;
  std::vector<int32_t> ranks;
  void add(std::vector<float> d, std::vector<int64_t> s) {
    data.push_back(std::move(d));
    shapes.push_back(std::move(s));
    ptrs.clear();
    shape_ptrs.clear();
    ranks.clear();
    for (size_t i = 0; i < data.size(); ++i) {
      ptrs.push_back(data[i].data());
      shape_ptrs.push_back(shapes[i].data());
      ranks.push_back(static_cast<int32_t>(shapes[i].size()));
    }
  }
};

float max_abs_diff(const float* a, const std::vector<float>& b) {
  float m = 0;
  for (size_t i = 0; i < b.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST_CASE("volume: NULL, bad paths and hostile files give a status and a message") {
  vx_volume* v = reinterpret_cast<vx_volume*>(0x1);
  CHECK(vx_volume_read(nullptr, nullptr, &v) == VX_ERR_INVALID_ARGUMENT);
  CHECK(v == nullptr);
  CHECK(err().find("path") != std::string::npos);
  CHECK(vx_volume_read(kT1.c_str(), nullptr, nullptr) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_volume_read("/no/such/scan.nii.gz", nullptr, &v) == VX_ERR_IO);
  CHECK(err().find("/no/such/scan.nii.gz") != std::string::npos);
  CHECK(v == nullptr);

  TempDir dir;
  // A NIfTI-1 header claiming 30000^3 float voxels in a 352-byte file.
  std::string hdr(352, '\0');
  auto put16 = [&hdr](size_t off, int16_t x) { std::memcpy(&hdr[off], &x, 2); };
  auto put32 = [&hdr](size_t off, int32_t x) { std::memcpy(&hdr[off], &x, 4); };
  auto putf = [&hdr](size_t off, float x) { std::memcpy(&hdr[off], &x, 4); };
  put32(0, 348);
  put16(40, 3);
  put16(42, 30000);
  put16(44, 30000);
  put16(46, 30000);
  put16(70, 16);
  put16(72, 32);
  for (int i = 0; i < 4; ++i) putf(76 + 4 * i, 1.f);
  putf(108, 352.f);
  std::memcpy(&hdr[344], "n+1\0", 4);
  const std::string huge = dir.file("huge.nii", hdr);
  CHECK(vx_volume_read(huge.c_str(), nullptr, &v) != VX_OK);
  CHECK(err().find("huge.nii") != std::string::npos);
  CHECK(v == nullptr);
  put16(42, -5);  // negative dimension
  const std::string neg = dir.file("neg.nii", hdr);
  CHECK(vx_volume_read(neg.c_str(), nullptr, &v) == VX_ERR_CORRUPT_FILE);
  CHECK(v == nullptr);
  const std::string junk = dir.file("junk.nii.gz", "this is not gzip data at all");
  CHECK(vx_volume_read(junk.c_str(), nullptr, &v) != VX_OK);
  CHECK(!err().empty());
  const std::string dcm = dir.file("junk.dcm", std::string(1000, 'x'));
  CHECK(vx_volume_read(dcm.c_str(), nullptr, &v) != VX_OK);
  CHECK(!err().empty());
  CHECK(vx_volume_read(dir.path.c_str(), nullptr, &v) != VX_OK);  // a folder with no DICOM in it
  CHECK(v == nullptr);

  vx_volume_read_options o;
  CHECK(vx_volume_read_options_init(&o) == VX_OK);
  o.struct_size = 3;
  CHECK(vx_volume_read(kT1.c_str(), &o, &v) == VX_ERR_INVALID_ARGUMENT);
  CHECK(err().find("struct_size") != std::string::npos);
  CHECK(vx_volume_read_options_init(&o) == VX_OK);
  o.max_bytes = 1000;
  CHECK(vx_volume_read(kT1.c_str(), &o, &v) == VX_ERR_LIMIT_EXCEEDED);

  CHECK(vx_volume_free(nullptr) == VX_OK);
  int64_t dims[3];
  CHECK(vx_volume_dims(nullptr, dims) == VX_ERR_INVALID_ARGUMENT);
  int not_a_handle = 0;
  CHECK(vx_volume_dims(reinterpret_cast<vx_volume*>(&not_a_handle), dims) == VX_ERR_INVALID_ARGUMENT);
  CHECK(err().find("vx_volume") != std::string::npos);
}

TEST_CASE("volume: create validates, writes are atomic and leave nothing on failure") {
  const int64_t dims[3] = {4, 3, 2};
  std::vector<float> data(24);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i) * 0.5f - 3.f;
  const double affine[16] = {0, 0, -2, 10, 1.5, 0, 0, -20, 0, 0.75, 0, 5, 0, 0, 0, 1};
  vx_volume* v = nullptr;
  CHECK(vx_volume_create(nullptr, dims, affine, &v) == VX_ERR_INVALID_ARGUMENT);
  const int64_t bad_dims[3] = {4, 0, 2};
  CHECK(vx_volume_create(data.data(), bad_dims, affine, &v) == VX_ERR_INVALID_ARGUMENT);
  const int64_t huge_dims[3] = {int64_t(1) << 30, int64_t(1) << 30, 4};
  CHECK(vx_volume_create(data.data(), huge_dims, affine, &v) == VX_ERR_LIMIT_EXCEEDED);
  const double singular[16] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
  CHECK(vx_volume_create(data.data(), dims, singular, &v) == VX_ERR_INVALID_ARGUMENT);
  CHECK(v == nullptr);
  REQUIRE_MESSAGE(vx_volume_create(data.data(), dims, affine, &v) == VX_OK, err());
  data[0] = 999.f;  // copied: the caller's buffer is not referenced
  const float* p = nullptr;
  REQUIRE(vx_volume_data(v, &p) == VX_OK);
  CHECK(p[0] == -3.f);
  CHECK(p[23] == 8.5f);
  double sp[3];
  REQUIRE(vx_volume_spacing(v, sp) == VX_OK);
  CHECK(sp[0] == 1.5);
  CHECK(sp[1] == 0.75);
  CHECK(sp[2] == 2.0);
  char code[4];
  REQUIRE(vx_volume_axcodes(v, code) == VX_OK);
  CHECK(std::string(code) == "ASL");

  TempDir dir;
  CHECK(vx_volume_write(v, (dir.path + "/map.txt").c_str()) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_volume_write(v, (dir.path + "/missing/map.nii").c_str()) == VX_ERR_IO);
  CHECK(vx_volume_write(nullptr, (dir.path + "/map.nii").c_str()) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_volume_write(v, nullptr) == VX_ERR_INVALID_ARGUMENT);
  CHECK(dir.files().empty());  // no partial or temporary file

  const std::string out = dir.path + "/map.nii.gz";
  REQUIRE_MESSAGE(vx_volume_write(v, out.c_str()) == VX_OK, err());
  CHECK(dir.files().size() == 1);
  vx_volume* back = nullptr;
  REQUIRE_MESSAGE(vx_volume_read(out.c_str(), nullptr, &back) == VX_OK, err());
  int64_t d2[3];
  double a2[16];
  const float* p2 = nullptr;
  REQUIRE(vx_volume_dims(back, d2) == VX_OK);
  REQUIRE(vx_volume_affine(back, a2) == VX_OK);
  REQUIRE(vx_volume_data(back, &p2) == VX_OK);
  CHECK(d2[0] == 4);
  CHECK(d2[1] == 3);
  CHECK(d2[2] == 2);
  for (int i = 0; i < 16; ++i) CHECK(a2[i] == doctest::Approx(affine[i]).epsilon(1e-6));
  CHECK(std::memcmp(p, p2, 24 * sizeof(float)) == 0);

  // reorient to RAS and back: the same voxels in the same world places
  vx_volume* ras = nullptr;
  vx_volume* again = nullptr;
  CHECK(vx_volume_reorient(v, "XYZ", &ras) == VX_ERR_INVALID_ARGUMENT);
  CHECK(ras == nullptr);
  REQUIRE_MESSAGE(vx_volume_reorient(v, "RAS", &ras) == VX_OK, err());
  REQUIRE(vx_volume_axcodes(ras, code) == VX_OK);
  CHECK(std::string(code) == "RAS");
  int64_t dr[3];
  REQUIRE(vx_volume_dims(ras, dr) == VX_OK);
  CHECK(dr[0] == 2);  // k (-> L, flipped to R) becomes the first axis
  CHECK(dr[1] == 4);
  CHECK(dr[2] == 3);
  REQUIRE(vx_volume_reorient(ras, "ASL", &again) == VX_OK);
  const float* p3 = nullptr;
  REQUIRE(vx_volume_data(again, &p3) == VX_OK);
  CHECK(std::memcmp(p, p3, 24 * sizeof(float)) == 0);

  // resize: 4x3x2 -> 8x6x4 nearest repeats each voxel; resample to the same spacing is the identity
  vx_volume* big = nullptr;
  const int64_t size[3] = {8, 6, 4};
  REQUIRE_MESSAGE(vx_volume_resize(v, size, VX_INTERP_NEAREST, 0, &big) == VX_OK, err());
  const float* pb = nullptr;
  REQUIRE(vx_volume_data(big, &pb) == VX_OK);
  CHECK(pb[(3 * 6 + 5) * 8 + 7] == p[(1 * 3 + 2) * 4 + 3]);
  REQUIRE(vx_volume_spacing(big, sp) == VX_OK);
  CHECK(sp[0] == doctest::Approx(0.75));
  CHECK(vx_volume_resize(v, size, static_cast<vx_interp>(7), 0, &big) == VX_ERR_INVALID_ARGUMENT);
  CHECK(big == nullptr);
  vx_volume* same = nullptr;
  const double keep[3] = {0, 0, 0};
  REQUIRE_MESSAGE(vx_volume_resample(v, keep, VX_INTERP_LINEAR, &same) == VX_OK, err());
  const float* ps = nullptr;
  REQUIRE(vx_volume_data(same, &ps) == VX_OK);
  CHECK(max_abs_diff(ps, std::vector<float>(p, p + 24)) < 1e-5f);

  CHECK(vx_volume_free(same) == VX_OK);
  CHECK(vx_volume_free(again) == VX_OK);
  CHECK(vx_volume_free(ras) == VX_OK);
  CHECK(vx_volume_free(back) == VX_OK);
  CHECK(vx_volume_free(v) == VX_OK);
  CHECK(vx_volume_free(v) == VX_ERR_INVALID_ARGUMENT);  // double free
}

TEST_CASE("volume: a real scan equals nibabel and round-trips through write with its geometry") {
  vx_volume* v = nullptr;
  REQUIRE_MESSAGE(vx_volume_read(kT1.c_str(), nullptr, &v) == VX_OK, err());
  int64_t dims[3];
  double affine[16];
  const float* data = nullptr;
  REQUIRE(vx_volume_dims(v, dims) == VX_OK);
  REQUIRE(vx_volume_affine(v, affine) == VX_OK);
  REQUIRE(vx_volume_data(v, &data) == VX_OK);
  CHECK(dims[0] == 42);  // nibabel: shape (42, 76, 77)
  CHECK(dims[1] == 76);
  CHECK(dims[2] == 77);
  const auto nib = read_raw<float>(kFx + "/t1w.f32");  // get_fdata() as float32, x fastest
  const auto nib_affine = read_raw<double>(kFx + "/t1w_affine.f64");
  REQUIRE(nib.size() == static_cast<size_t>(dims[0] * dims[1] * dims[2]));
  CHECK(max_abs_diff(data, nib) <= 1e-6f * 1000);
  for (int i = 0; i < 16; ++i) CHECK(affine[i] == doctest::Approx(nib_affine[static_cast<size_t>(i)]).epsilon(1e-9));

  // A map on the scan's grid, written and read back: same grid, same geometry.
  std::vector<float> map(nib.size());
  for (size_t i = 0; i < map.size(); ++i) map[i] = static_cast<float>(i % 97) / 96.f;
  vx_volume* m = nullptr;
  CHECK(vx_volume_create_like(v, nullptr, &m) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_volume_create_like(nullptr, map.data(), &m) == VX_ERR_INVALID_ARGUMENT);
  CHECK(m == nullptr);
  REQUIRE_MESSAGE(vx_volume_create_like(v, map.data(), &m) == VX_OK, err());
  TempDir dir;
  const std::string out = dir.path + "/map.nii";
  REQUIRE_MESSAGE(vx_volume_write(m, out.c_str()) == VX_OK, err());
  vx_volume* back = nullptr;
  REQUIRE_MESSAGE(vx_volume_read(out.c_str(), nullptr, &back) == VX_OK, err());
  double a2[16];
  const float* p2 = nullptr;
  REQUIRE(vx_volume_affine(back, a2) == VX_OK);
  REQUIRE(vx_volume_data(back, &p2) == VX_OK);
  for (int i = 0; i < 16; ++i) CHECK(a2[i] == doctest::Approx(affine[i]).epsilon(1e-6));
  CHECK(std::memcmp(p2, map.data(), map.size() * sizeof(float)) == 0);
  CHECK(vx_volume_free(back) == VX_OK);
  CHECK(vx_volume_free(m) == VX_OK);
  CHECK(vx_volume_free(v) == VX_OK);
}

TEST_CASE("gradcam: 3-D ResNet matches PyTorch autograd Grad-CAM and Grad-CAM++") {
  Loaded L(kFx + "/resnet3d.vxm");
  Inputs in;
  in.add(read_raw<float>(kFx + "/resnet3d_in0.f32"), {1, 1, 6, 12, 10});
  const auto torch_cam = read_raw<float>(kFx + "/resnet3d_cam0.f32");
  const auto torch_pp = read_raw<float>(kFx + "/resnet3d_campp0.f32");

  size_t n = 0;
  REQUIRE_MESSAGE(vx_session_gradcam_num_maps(L.session, nullptr, &n) == VX_OK, err());
  CHECK(n == 1);
  vx_tensor* maps[2] = {nullptr, nullptr};
  int64_t cls = -7;
  float raw = -1;
  REQUIRE_MESSAGE(vx_session_gradcam(L.session, 1, in.ptrs.data(), in.shape_ptrs.data(), in.ranks.data(), nullptr, 2,
                                     maps, &n, &cls, &raw) == VX_OK,
                  err());
  CHECK(n == 1);
  CHECK(maps[1] == nullptr);
  const nlohmann::json want = fixture_json("resnet3d");
  CHECK(cls == want.at("class").get<int64_t>());  // PyTorch's predicted class
  CHECK(raw == doctest::Approx(want.at("raw_max").at(0).get<double>()).epsilon(1e-3));
  int64_t dims[VX_MAX_RANK];
  int32_t rank = 0;
  REQUIRE(vx_tensor_shape(maps[0], dims, &rank) == VX_OK);
  CHECK(rank == 5);
  CHECK(dims[2] == 6);
  CHECK(dims[3] == 12);
  CHECK(dims[4] == 10);
  const float* p = nullptr;
  REQUIRE(vx_tensor_data(maps[0], &p) == VX_OK);
  CHECK(max_abs_diff(p, torch_cam) < 1e-4f);
  CHECK(vx_tensor_free(maps[0]) == VX_OK);

  vx_gradcam_options o;
  CHECK(vx_gradcam_options_init(&o) == VX_OK);
  o.method = VX_CAM_GRADCAM_PP;
  o.layer = "block_out";
  REQUIRE_MESSAGE(vx_session_gradcam(L.session, 1, in.ptrs.data(), in.shape_ptrs.data(), in.ranks.data(), &o, 1,
                                     maps, &n, nullptr, nullptr) == VX_OK,
                  err());
  REQUIRE(vx_tensor_data(maps[0], &p) == VX_OK);
  CHECK(max_abs_diff(p, torch_pp) < 1e-4f);
  CHECK(max_abs_diff(p, torch_cam) > 1e-3f);  // the two methods really differ here
  CHECK(vx_tensor_free(maps[0]) == VX_OK);

  // Another target class gives another map.
  CHECK(vx_gradcam_options_init(&o) == VX_OK);
  o.target_class = 2;
  REQUIRE(vx_session_gradcam(L.session, 1, in.ptrs.data(), in.shape_ptrs.data(), in.ranks.data(), &o, 1, maps, &n,
                             &cls, nullptr) == VX_OK);
  CHECK(cls == 2);
  REQUIRE(vx_tensor_data(maps[0], &p) == VX_OK);
  CHECK(max_abs_diff(p, torch_cam) > 1e-3f);
  CHECK(vx_tensor_free(maps[0]) == VX_OK);
}

TEST_CASE("gradcam: a dual encoder gives one map per input, each on its own grid") {
  Loaded L(kFx + "/dual.vxm", /*deterministic=*/1);
  Inputs in;
  in.add(read_raw<float>(kFx + "/dual_in0.f32"), {1, 1, 6, 10, 8});
  in.add(read_raw<float>(kFx + "/dual_in1.f32"), {1, 1, 8, 6, 10});
  size_t n = 0;
  REQUIRE(vx_session_gradcam_num_maps(L.session, nullptr, &n) == VX_OK);
  CHECK(n == 2);
  vx_tensor* maps[3] = {nullptr, nullptr, nullptr};
  int64_t cls = -1;
  float raw[2] = {-1, -1};
  REQUIRE_MESSAGE(vx_session_gradcam(L.session, 2, in.ptrs.data(), in.shape_ptrs.data(), in.ranks.data(), nullptr, 3,
                                     maps, &n, &cls, raw) == VX_OK,
                  err());
  CHECK(n == 2);
  const nlohmann::json want = fixture_json("dual");
  CHECK(cls == want.at("class").get<int64_t>());
  for (size_t i = 0; i < 2; ++i) CHECK(raw[i] == doctest::Approx(want.at("raw_max").at(i).get<double>()).epsilon(1e-3));
  for (size_t i = 0; i < 2; ++i) {
    int64_t dims[VX_MAX_RANK];
    int32_t rank = 0;
    REQUIRE(vx_tensor_shape(maps[i], dims, &rank) == VX_OK);
    for (int d = 2; d < 5; ++d) CHECK(dims[d] == in.shapes[i][static_cast<size_t>(d)]);
    const float* p = nullptr;
    REQUIRE(vx_tensor_data(maps[i], &p) == VX_OK);
    CHECK(max_abs_diff(p, read_raw<float>(kFx + "/dual_cam" + std::to_string(i) + ".f32")) < 1e-4f);
    CHECK(vx_tensor_free(maps[i]) == VX_OK);
  }
  CHECK(maps[2] == nullptr);
}

TEST_CASE("gradcam: misuse, too little room and cancellation") {
  Loaded L(kFx + "/dual.vxm");
  Inputs in;
  in.add(read_raw<float>(kFx + "/dual_in0.f32"), {1, 1, 6, 10, 8});
  in.add(read_raw<float>(kFx + "/dual_in1.f32"), {1, 1, 8, 6, 10});
  vx_tensor* maps[2] = {reinterpret_cast<vx_tensor*>(0x1), reinterpret_cast<vx_tensor*>(0x1)};
  size_t n = 99;
  int64_t cls = -5;
  float raw[2] = {-5, -5};
  auto call = [&](vx_session* s, size_t num_in, const vx_gradcam_options* o, size_t room) {
    return vx_session_gradcam(s, num_in, in.ptrs.data(), in.shape_ptrs.data(), in.ranks.data(), o, room, maps, &n,
                              &cls, raw);
  };
  CHECK(call(L.session, 2, nullptr, 1) == VX_ERR_INVALID_ARGUMENT);  // room for 1 of 2 maps
  CHECK(n == 2);
  CHECK(maps[0] == nullptr);
  CHECK(err().find("2 map") != std::string::npos);
  CHECK(call(nullptr, 2, nullptr, 2) == VX_ERR_INVALID_ARGUMENT);
  CHECK(n == 0);
  CHECK(call(L.session, 1, nullptr, 2) == VX_ERR_INVALID_ARGUMENT);  // one input missing
  CHECK(vx_session_gradcam(L.session, 2, in.ptrs.data(), in.shape_ptrs.data(), in.ranks.data(), nullptr, 2, nullptr,
                           &n, nullptr, nullptr) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_session_gradcam(L.session, 2, in.ptrs.data(), in.shape_ptrs.data(), in.ranks.data(), nullptr, 2, maps,
                           nullptr, nullptr, nullptr) == VX_ERR_INVALID_ARGUMENT);
  vx_gradcam_options o;
  CHECK(vx_gradcam_options_init(nullptr) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_gradcam_options_init(&o) == VX_OK);
  o.layer = "no_such_layer";
  CHECK(call(L.session, 2, &o, 2) == VX_ERR_INVALID_ARGUMENT);
  CHECK(err().find("no_such_layer") != std::string::npos);
  CHECK(vx_gradcam_options_init(&o) == VX_OK);
  o.method = 9;
  CHECK(call(L.session, 2, &o, 2) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_gradcam_options_init(&o) == VX_OK);
  o.target_class = 5;  // 2 classes
  CHECK(call(L.session, 2, &o, 2) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_gradcam_options_init(&o) == VX_OK);
  o.align_corners = 3;
  CHECK(call(L.session, 2, &o, 2) == VX_ERR_INVALID_ARGUMENT);
  CHECK(vx_gradcam_options_init(&o) == VX_OK);
  o.struct_size = 4;
  CHECK(call(L.session, 2, &o, 2) == VX_ERR_INVALID_ARGUMENT);
  CHECK(err().find("struct_size") != std::string::npos);
  std::vector<int64_t> bad{1, 2, 6, 10, 8};  // 2 channels where the encoder takes 1
  const int64_t* bad_shapes[2] = {bad.data(), in.shapes[1].data()};
  CHECK(vx_session_gradcam(L.session, 2, in.ptrs.data(), bad_shapes, in.ranks.data(), nullptr, 2, maps, &n, &cls,
                           raw) != VX_OK);

  int calls = 0;
  auto cancel_at_end = [](void* user, const char* stage, int64_t done, int64_t) -> int {
    ++*static_cast<int*>(user);
    return std::strcmp(stage, "gradcam") == 0 && done == 1;
  };
  REQUIRE(vx_session_set_progress(L.session, cancel_at_end, &calls) == VX_OK);
  CHECK(call(L.session, 2, nullptr, 2) == VX_ERR_CANCELLED);
  CHECK(calls == 2);
  CHECK(maps[0] == nullptr);
  CHECK(maps[1] == nullptr);
  CHECK(n == 0);
  CHECK(cls == -5);  // caller's arrays untouched on failure
  CHECK(raw[0] == -5);
  REQUIRE(vx_session_set_progress(L.session, nullptr, nullptr) == VX_OK);
  REQUIRE(call(L.session, 2, nullptr, 2) == VX_OK);  // the session still works afterwards
  CHECK(n == 2);
  CHECK(cls == fixture_json("dual").at("class").get<int64_t>());
  CHECK(vx_tensor_free(maps[0]) == VX_OK);
  CHECK(vx_tensor_free(maps[1]) == VX_OK);
}
