// Drives pg-mcp like an MCP client and times it. Prints one JSON line.
//   mcp_bench stdio PGMCP CONFIG latency N SQL  -> {"p50_ms", "p99_ms", "peak_rss_kb"}
//   mcp_bench stdio PGMCP CONFIG coldstart RUNS -> {"median_ms"}  (spawn to first tools/list
//   answer) mcp_bench http URL latency N SQL            -> {"p50_ms", "p99_ms"}
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/URI.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

extern char **environ;

namespace {
using Clock = std::chrono::steady_clock;
using nlohmann::json;

const char *kMeta =
    R"("_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}})";

std::string call_body(int id, const std::string &sql) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"tools/call","params":{"name":"execute_sql","arguments":{"sql":)" +
         json(sql).dump() + "}," + kMeta + "}}";
}

struct Child {
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string buffer;

  Child(const std::string &bin, const std::string &config) {
    int to[2], from[2];
    if (pipe(to) != 0 || pipe(from) != 0) std::exit(1);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, to[0], 0);
    posix_spawn_file_actions_adddup2(&fa, from[1], 1);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    // The child keeps only its ends: with our write end open it would never see EOF.
    for (int fd : {to[0], to[1], from[0], from[1]}) posix_spawn_file_actions_addclose(&fa, fd);
    std::vector<char *> args = {const_cast<char *>(bin.c_str()), const_cast<char *>("--config"),
                                const_cast<char *>(config.c_str()), nullptr};
    if (posix_spawn(&pid, bin.c_str(), &fa, nullptr, args.data(), environ) != 0) std::exit(1);
    close(to[0]);
    close(from[1]);
    in = to[1];
    out = from[0];
  }
  void send(const std::string &line) {
    std::string s = line + "\n";
    if (write(in, s.data(), s.size()) != static_cast<ssize_t>(s.size())) std::exit(1);
  }
  std::string read_line() {
    for (;;) {
      auto nl = buffer.find('\n');
      if (nl != std::string::npos) {
        std::string l = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        return l;
      }
      char chunk[65536];
      ssize_t n = read(out, chunk, sizeof chunk);
      if (n <= 0) {
        std::fprintf(stderr, "mcp_bench: pg-mcp closed its output\n");
        std::exit(1);
      }
      buffer.append(chunk, static_cast<size_t>(n));
    }
  }
  long peak_rss_kb() const {
    std::ifstream f("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
    return -1;
  }
  void finish() {
    close(in);
    int st;
    waitpid(pid, &st, 0);
    close(out);
  }
};

void print_latency(std::vector<double> ms, long rss) {
  std::sort(ms.begin(), ms.end());
  std::printf("{\"p50_ms\": %.4f, \"p99_ms\": %.4f", ms[ms.size() / 2], ms[ms.size() * 99 / 100]);
  if (rss >= 0) std::printf(", \"peak_rss_kb\": %ld", rss);
  std::printf("}\n");
}

void check(const std::string &response) {
  if (response.find("\"isError\":true") != std::string::npos ||
      response.find("\"error\"") != std::string::npos) {
    std::fprintf(stderr, "mcp_bench: the call failed: %.300s\n", response.c_str());
    std::exit(1);
  }
}
}  // namespace

int main(int argc, char **argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: see the comment at the top of mcp_bench.cpp\n");
    return 2;
  }
  std::string transport = argv[1];
  if (transport == "stdio") {
    std::string bin = argv[2], config = argv[3], mode = argv[4];
    if (mode == "coldstart") {
      int runs = std::stoi(argv[5]);
      std::vector<double> ms;
      for (int r = 0; r < runs; ++r) {
        auto t = Clock::now();
        Child c(bin, config);
        c.send(std::string(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{)") + kMeta +
               "}}");
        check(c.read_line());
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
        c.finish();
      }
      std::sort(ms.begin(), ms.end());
      std::printf("{\"median_ms\": %.3f}\n", ms[ms.size() / 2]);
      return 0;
    }
    int n = std::stoi(argv[5]);
    std::string sql = argv[6];
    Child c(bin, config);
    for (int i = 0; i < 50; ++i) {
      c.send(call_body(i, sql));
      check(c.read_line());
    }
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto t = Clock::now();
      c.send(call_body(1000 + i, sql));
      check(c.read_line());
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
    }
    long rss = c.peak_rss_kb();
    c.finish();
    print_latency(ms, rss);
    return 0;
  }
  Poco::URI uri(argv[2]);
  int n = std::stoi(argv[4]);
  std::string sql = argv[5];
  Poco::Net::HTTPClientSession s(uri.getHost(), uri.getPort());
  s.setKeepAlive(true);
  auto once = [&](int id) {
    std::string body = call_body(id, sql);
    Poco::Net::HTTPRequest req(Poco::Net::HTTPRequest::HTTP_POST, uri.getPath(),
                               Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("application/json");
    req.set("Accept", "application/json, text/event-stream");
    req.set("MCP-Protocol-Version", "2026-07-28");
    req.set("Mcp-Method", "tools/call");
    req.set("Mcp-Name", "execute_sql");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream &in = s.receiveResponse(resp);
    std::ostringstream o;
    o << in.rdbuf();
    check(o.str());
  };
  for (int i = 0; i < 50; ++i) once(i);
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    auto t = Clock::now();
    once(1000 + i);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t).count());
  }
  print_latency(ms, -1);
  return 0;
}
