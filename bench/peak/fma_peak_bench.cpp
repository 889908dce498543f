// Register-only AVX-512 FMA throughput: the fp32 ceiling other benchmarks report against.
// 12 independent accumulators hide the 4-cycle FMA latency on two FMA ports.
#include <benchmark/benchmark.h>
#include <immintrin.h>
#include <omp.h>

static double fma_loop(int64_t iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(0.001f * i);
  const __m512 a = _mm512_set1_ps(0.9999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t t = 0; t < iters; ++t)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  double r = 0;
  for (float v : lanes) r += v;
  return r;
}

static void BM_fma_peak(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int64_t iters = 20'000'000;
  for (auto _ : state) {
    double sink = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : sink)
    for (int t = 0; t < threads; ++t) sink += fma_loop(iters);
    benchmark::DoNotOptimize(sink);
  }
  const double flops = 2.0 * 16 * 12 * iters * threads;  // FMA = 2 flops, 16 lanes
  state.counters["GFLOP/s"] = benchmark::Counter(flops * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_fma_peak)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
