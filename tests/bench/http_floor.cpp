// The floor for HTTP benchmarks: the same Poco HTTP server pg-mcp uses, with
// the same thread settings, answering every POST with a fixed JSON-RPC result
// and doing nothing else. pg-mcp's figures are reported as ratios to this.
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/ThreadPool.h>

#include <unistd.h>
#include <csignal>
#include <iostream>
#include <istream>
#include <string>

namespace {
class Fixed final : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest &req,
                     Poco::Net::HTTPServerResponse &resp) override {
    std::istream &in = req.stream();
    char buf[4096];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    }
    static const std::string body = R"({"jsonrpc":"2.0","id":1,"result":{}})";
    resp.setContentType("application/json");
    resp.sendBuffer(body.data(), body.size());
  }
};
class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler *createRequestHandler(
      const Poco::Net::HTTPServerRequest &) override {
    return new Fixed;
  }
};
}  // namespace

int main(int argc, char **argv) {
  int port = argc > 1 ? std::stoi(argv[1]) : 0;
  Poco::Net::ServerSocket socket(
      Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), 256);
  auto *params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(128);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);
  Poco::ThreadPool pool(2, 128, 60);
  Poco::Net::HTTPServer server(new Factory, pool, socket, params);
  server.start();
  std::cout << "http://127.0.0.1:" << socket.address().port() << "/" << std::endl;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  int sig = 0;
  sigwait(&set, &sig);
  server.stopAll(true);
  return 0;
}
