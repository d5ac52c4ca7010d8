// The HTTP connection layer on loopback with raw sockets: a full queue is
// refused with 503 and Retry-After, partial heads wait without a worker and
// are cut at the header deadline, parked streams hold no worker and end when
// told, and a client that does not read is cut at the write deadline. Runs
// under ThreadSanitizer too.
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "http/server.hpp"

using pgmcp::http::HttpLimits;
using pgmcp::http::HttpServer;
using testing::HasSubstr;
using namespace std::chrono_literals;

namespace {

// A raw client socket with a receive timeout.
struct Raw {
  int fd = -1;
  explicit Raw(std::uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) ADD_FAILURE() << "connect";
  }
  ~Raw() { ::close(fd); }
  void send(const std::string &s) const { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }
  // Reads until `until` appears, the peer closes, or the timeout.
  std::string read(const std::string &until = "") const {
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (!until.empty() && out.find(until) != std::string::npos) break;
    }
    return out;
  }
};

const std::string kGet = "GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

class HttpServerTest : public testing::Test {
 protected:
  void start(HttpLimits limits, HttpServer::Handler handler) {
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true, false);
    socket.listen(256);
    port = socket.address().port();
    server = std::make_unique<HttpServer>(socket, nullptr, limits, std::move(handler));
    server->start();
  }
  void TearDown() override {
    if (server) server->stop();
  }
  std::unique_ptr<HttpServer> server;
  std::uint16_t port = 0;
};

void answer(Poco::Net::HTTPServerResponse &resp, const std::string &body) {
  resp.setContentType("text/plain");
  resp.sendBuffer(body.data(), body.size());
}

TEST_F(HttpServerTest, AFullQueueIsRefusedWith503AndRetryAfterAndTheServerRecovers) {
  HttpLimits limits;
  limits.max_threads = 4;
  limits.max_queued = 2;
  start(limits, [](Poco::Net::HTTPServerRequest &, Poco::Net::HTTPServerResponse &resp) {
    std::this_thread::sleep_for(300ms);
    answer(resp, "done");
  });
  std::vector<std::future<std::string>> replies;
  for (int i = 0; i < 12; ++i) {
    replies.push_back(std::async(std::launch::async, [this] {
      Raw c(port);
      c.send(kGet);
      return c.read("done");
    }));
    std::this_thread::sleep_for(5ms);
  }
  int ok = 0, busy = 0;
  for (auto &r : replies) {
    std::string text = r.get();
    if (text.rfind("HTTP/1.1 200", 0) == 0) ++ok;
    if (text.rfind("HTTP/1.1 503 Service Unavailable", 0) == 0) {
      ++busy;
      EXPECT_THAT(text, HasSubstr("\r\nRetry-After: 1\r\n"));
      EXPECT_THAT(text, HasSubstr("pg-mcp is busy"));
    }
  }
  EXPECT_EQ(ok + busy, 12);
  EXPECT_GE(ok, 4);
  EXPECT_GE(busy, 1);
  Raw later(port);
  later.send(kGet);
  EXPECT_THAT(later.read("done"), HasSubstr("done"));
}

TEST_F(HttpServerTest, AClientInATightLoopDoesNotKeepItsWorkerFromOthers) {
  HttpLimits limits;
  limits.max_threads = 1;  // one worker: fairness has to come from the server
  start(limits, [](Poco::Net::HTTPServerRequest &, Poco::Net::HTTPServerResponse &resp) {
    answer(resp, "done");
  });
  std::atomic<bool> stop{false};
  std::thread busy([this, &stop] {
    Raw c(port);
    while (!stop.load()) {  // the next request as soon as the answer is in
      c.send(kGet);
      if (c.read("done").empty()) break;
    }
  });
  std::this_thread::sleep_for(200ms);
  auto t0 = std::chrono::steady_clock::now();
  Raw other(port);
  other.send(kGet);
  EXPECT_THAT(other.read("done"), HasSubstr("done"));
  auto waited = std::chrono::steady_clock::now() - t0;
  stop = true;
  busy.join();
  EXPECT_LT(waited, 1500ms);  // not until the busy client stops
}

TEST_F(HttpServerTest, PartialHeadsHoldNoWorkerAndAreCutAtTheHeaderDeadline) {
  HttpLimits limits;
  limits.max_threads = 4;
  limits.header_timeout = 1500ms;
  start(limits, [](Poco::Net::HTTPServerRequest &, Poco::Net::HTTPServerResponse &resp) {
    answer(resp, "done");
  });
  std::vector<std::unique_ptr<Raw>> slow;
  for (int i = 0; i < 40; ++i) {
    slow.push_back(std::make_unique<Raw>(port));
    slow.back()->send("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  }
  auto t0 = std::chrono::steady_clock::now();
  Raw normal(port);
  normal.send(kGet);
  EXPECT_THAT(normal.read("done"), HasSubstr("done"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1200ms);  // before any head deadline
  for (auto &s : slow) EXPECT_THAT(s->read(), HasSubstr("HTTP/1.1 408"));
}

TEST_F(HttpServerTest, ParkedStreamsHoldNoWorkerGetKeepAlivesAndEndWhenTold) {
  HttpLimits limits;
  limits.max_threads = 4;
  limits.keepalive_interval = 100ms;
  auto open = std::make_shared<std::atomic<bool>>(true);
  auto ended = std::make_shared<std::atomic<int>>(0);
  start(limits,
        [open, ended](Poco::Net::HTTPServerRequest &req, Poco::Net::HTTPServerResponse &resp) {
          if (req.getURI() != "/stream") return answer(resp, "done");
          resp.setChunkedTransferEncoding(true);
          resp.setContentType("text/event-stream");
          std::ostream *out = &resp.send();
          *out << ": open\n\n";
          out->flush();
          HttpServer::park({[open] { return open->load(); },
                            [out] {
                              *out << ": keep-alive\n\n";
                              out->flush();
                              return out->good();
                            },
                            [ended] { ++*ended; }});
        });
  std::vector<std::unique_ptr<Raw>> streams;
  for (int i = 0; i < 10; ++i) {
    streams.push_back(std::make_unique<Raw>(port));
    streams.back()->send("GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    EXPECT_THAT(streams.back()->read(": open"), HasSubstr(": open"));
  }
  // ten streams open, four workers: a normal request is still served
  Raw normal(port);
  normal.send(kGet);
  EXPECT_THAT(normal.read("done"), HasSubstr("done"));
  EXPECT_THAT(streams.front()->read(": keep-alive"), HasSubstr(": keep-alive"));
  EXPECT_GE(server->counts().parked, 10u);
  *open = false;
  for (auto &s : streams) s->read();  // until the server closes it
  EXPECT_EQ(ended->load(), 10);
  EXPECT_EQ(server->counts().parked, 0u);
}

TEST_F(HttpServerTest, AClientThatDoesNotReadIsCutAtTheWriteDeadline) {
  HttpLimits limits;
  limits.write_timeout = 300ms;
  constexpr std::size_t kBig = 64 * 1024 * 1024;
  auto took = std::make_shared<std::promise<std::chrono::steady_clock::duration>>();
  start(limits, [took](Poco::Net::HTTPServerRequest &, Poco::Net::HTTPServerResponse &resp) {
    auto t0 = std::chrono::steady_clock::now();
    try {
      pgmcp::http::WriteDeadline deadline(HttpServer::current());
      answer(resp, std::string(kBig, 'x'));
    } catch (...) {
      // the write failed: what a handler sees when the deadline cuts it
    }
    took->set_value(std::chrono::steady_clock::now() - t0);
  });
  Raw c(port);
  c.send(kGet);  // and does not read
  EXPECT_LT(took->get_future().get(), 3s);
  std::string got = c.read();  // what was in flight, then the close
  EXPECT_LT(got.size(), kBig);
}

}  // namespace
