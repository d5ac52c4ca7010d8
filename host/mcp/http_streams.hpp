// The event streams of MCP over HTTP: the logical stream a legacy session
// can resume with Last-Event-ID (SseStream), and a response that becomes a
// stream when something must be sent before it (LazyResponse).
#pragma once

#include <Poco/Net/HTTPServerResponse.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>

#include "http/server.hpp"
#include "mcp/server.hpp"

namespace pgmcp::mcp {

// Events kept per stream for resumption.
inline constexpr std::size_t kHistoryEvents = 512;

// Starts an event-stream answer and returns its body.
std::ostream &open_event_stream(Poco::Net::HTTPServerResponse &r);

// One logical event stream: a POST's response stream or a session's GET
// stream. Legacy sessions keep recent events so a client can resume with
// Last-Event-ID on a new connection.
class SseStream {
 public:
  explicit SseStream(std::string id) : id_(std::move(id)) {}
  const std::string &id() const { return id_; }

  // Records an event and writes it to the attached connection, if any.
  // Returns whether it reached a connection.
  bool publish(const std::string &data, bool final) {
    std::lock_guard lock(mutex_);
    std::uint64_t seq = next_++;
    history_.emplace_back(seq, data);
    if (history_.size() > kHistoryEvents) history_.pop_front();
    bool delivered = write_locked(seq, data);
    if (final) finished_ = true;
    return delivered;
  }

  // Attaches a connection and replays every event after `after`.
  bool attach(std::ostream *out, std::shared_ptr<http::HttpConnection> connection,
              std::uint64_t after) {
    std::lock_guard lock(mutex_);
    out_ = out;
    connection_ = std::move(connection);
    for (const auto &[seq, data] : history_) {
      if (seq > after && !data.empty() && !write_locked(seq, data)) return false;
    }
    return out_ != nullptr;
  }

  void detach(std::ostream *out) {
    std::lock_guard lock(mutex_);
    if (out_ == out) {
      out_ = nullptr;
      connection_.reset();
    }
  }

  // Whether `out` still carries this stream, which has not finished.
  bool carried_by(std::ostream *out) {
    std::lock_guard lock(mutex_);
    return out_ == out && !finished_;
  }

  // A comment that keeps proxies from closing an idle stream; false once
  // `out` no longer carries it.
  bool keepalive(std::ostream *out) {
    std::lock_guard lock(mutex_);
    if (out_ != out) return false;
    http::WriteDeadline deadline(connection_);
    *out_ << ": keep-alive\n\n";
    out_->flush();
    if (!out_->good()) out_ = nullptr;
    return out_ != nullptr;
  }

  bool attached() {
    std::lock_guard lock(mutex_);
    return out_ != nullptr;
  }
  bool finished() {
    std::lock_guard lock(mutex_);
    return finished_;
  }

 private:
  bool write_locked(std::uint64_t seq, const std::string &data) {
    if (out_ == nullptr) return false;
    http::WriteDeadline deadline(connection_);
    *out_ << "id: " << id_ << '.' << seq << "\ndata: " << data << "\n\n";
    out_->flush();
    if (!out_->good()) {
      out_ = nullptr;
      return false;
    }
    return true;
  }

  std::string id_;
  std::mutex mutex_;
  std::deque<std::pair<std::uint64_t, std::string>> history_;
  std::uint64_t next_ = 1;
  std::ostream *out_ = nullptr;
  std::shared_ptr<http::HttpConnection> connection_;  // of out_, for its write deadline
  bool finished_ = false;
};

// Answers with JSON unless something is sent before the response, in which
// case the answer becomes an event stream carrying both.
class LazyResponse final : public Outbound {
 public:
  LazyResponse(Poco::Net::HTTPServerResponse &r, std::shared_ptr<SseStream> stream, bool priming)
      : r_(r),
        stream_(std::move(stream)),
        priming_(priming),
        connection_(http::HttpServer::current()) {}

  bool send(const json &message) override {
    return send_text(message.dump(-1, ' ', false, json::error_handler_t::replace), false);
  }

  void finish(const std::string &text, int status) {
    {
      std::lock_guard lock(mutex_);
      if (!started_) {
        http::WriteDeadline deadline(connection_);
        r_.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
        r_.setContentType("application/json");
        r_.sendBuffer(text.data(), text.size());
        return;
      }
    }
    send_text(text, true);
  }

  // Ends a stream that will carry no response (the request was cancelled).
  void abandon() {
    std::lock_guard lock(mutex_);
    if (!started_) {
      r_.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_ACCEPTED);
      r_.setContentLength(0);
      r_.send();
    }
    if (stream_) stream_->publish("", true);
  }

 private:
  bool send_text(const std::string &text, bool final) {
    std::lock_guard lock(mutex_);
    http::WriteDeadline deadline(connection_);
    if (!started_) {
      started_ = true;
      os_ = &open_event_stream(r_);
      if (stream_) {
        stream_->attach(os_, connection_, 0);
        // 2025-11-25: an id with empty data first, so a client that loses the
        // connection can resume with Last-Event-ID.
        if (priming_) stream_->publish("", false);
      }
    }
    if (stream_) {
      bool delivered = stream_->publish(text, final);
      if (final) stream_->detach(os_);
      return delivered || !final;
    }
    if (os_ == nullptr || !os_->good()) return false;
    *os_ << "data: " << text << "\n\n";
    os_->flush();
    return os_->good();
  }

  Poco::Net::HTTPServerResponse &r_;
  std::shared_ptr<SseStream> stream_;
  bool priming_;
  std::shared_ptr<http::HttpConnection> connection_;
  std::mutex mutex_;
  bool started_ = false;
  std::ostream *os_ = nullptr;
};

}  // namespace pgmcp::mcp
