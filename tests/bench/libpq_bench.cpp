// The floor for database benchmarks: the same statements through libpq
// directly (PQexecParams, one round trip each). Prints one JSON line.
//   libpq_bench CONNINFO latency N SQL      -> {"p50_ms", "p99_ms"}
//   libpq_bench CONNINFO throughput SECONDS THREADS SQL -> {"calls_per_s"}
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace {
using Clock = std::chrono::steady_clock;

PGconn *connect(const char *conninfo) {
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK) {
    std::fprintf(stderr, "libpq_bench: %s", PQerrorMessage(c));
    std::exit(1);
  }
  return c;
}

void run(PGconn *c, const char *sql) {
  PGresult *r = PQexecParams(c, sql, 0, nullptr, nullptr, nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    std::fprintf(stderr, "libpq_bench: %s", PQerrorMessage(c));
    std::exit(1);
  }
  PQclear(r);
}
}  // namespace

int main(int argc, char **argv) {
  if (argc < 5) {
    std::fprintf(
        stderr,
        "usage: libpq_bench CONNINFO latency N SQL | CONNINFO throughput SECONDS THREADS SQL\n");
    return 2;
  }
  std::string mode = argv[2];
  if (mode == "latency") {
    int n = std::stoi(argv[3]);
    PGconn *c = connect(argv[1]);
    for (int i = 0; i < 50; ++i) run(c, argv[4]);  // warm up
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto t = Clock::now();
      run(c, argv[4]);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    }
    std::sort(ms.begin(), ms.end());
    std::printf("{\"p50_ms\": %.4f, \"p99_ms\": %.4f}\n", ms[ms.size() / 2],
                ms[ms.size() * 99 / 100]);
    PQfinish(c);
    return 0;
  }
  double seconds = std::stod(argv[3]);
  int threads = std::stoi(argv[4]);
  const char *sql = argv[5];
  std::atomic<long> calls{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      PGconn *c = connect(argv[1]);
      while (!stop.load()) {
        run(c, sql);
        ++calls;
      }
      PQfinish(c);
    });
  }
  auto start = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto &t : pool) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("{\"calls_per_s\": %.1f}\n", static_cast<double>(calls.load()) / elapsed);
  return 0;
}
