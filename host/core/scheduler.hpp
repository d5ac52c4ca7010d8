// One thread for the server's periodic background work (expiring idle
// sessions, refreshing schema caches): tasks run one at a time, each at its
// interval, and stop() ends them cleanly. A task must not block for long; a
// task that does delays the others, never the requests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace pgmcp::core {

class Scheduler {
 public:
  using TaskId = std::uint64_t;

  Scheduler();
  ~Scheduler();  // stop()
  Scheduler(const Scheduler &) = delete;
  Scheduler &operator=(const Scheduler &) = delete;

  // Runs task every `interval`, the first time one interval from now, until
  // it is cancelled or the scheduler stops. An exception from the task is
  // logged under `name` and the task keeps its schedule.
  TaskId every(std::chrono::milliseconds interval, std::string name, std::function<void()> task);
  // Ends a task; when it is running on another thread, waits for that run
  // to finish. Unknown ids are ignored.
  void cancel(TaskId id);
  // Ends every task (waiting for the one running) and the thread.
  void stop();

 private:
  struct Task {
    std::chrono::milliseconds interval;
    std::chrono::steady_clock::time_point due;
    std::string name;
    std::function<void()> fn;
  };
  void loop();

  std::mutex mutex_;
  std::condition_variable cv_;
  std::map<TaskId, Task> tasks_;
  TaskId next_ = 1;
  TaskId running_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

// A task's registration: cancels the task when it goes.
class ScheduledTask {
 public:
  ScheduledTask() = default;
  ScheduledTask(Scheduler &s, Scheduler::TaskId id) : s_(&s), id_(id) {}
  ScheduledTask(ScheduledTask &&o) noexcept : s_(o.s_), id_(o.id_) { o.s_ = nullptr; }
  ScheduledTask &operator=(ScheduledTask &&o) noexcept {
    if (this != &o) {
      reset();
      s_ = o.s_;
      id_ = o.id_;
      o.s_ = nullptr;
    }
    return *this;
  }
  ~ScheduledTask() { reset(); }
  void reset() {
    if (s_ != nullptr) s_->cancel(id_);
    s_ = nullptr;
  }

 private:
  Scheduler *s_ = nullptr;
  Scheduler::TaskId id_ = 0;
};

}  // namespace pgmcp::core
