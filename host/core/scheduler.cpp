#include "core/scheduler.hpp"

#include <pthread.h>
#include <signal.h>

#include <exception>

#include "log/log.hpp"

namespace pgmcp::core {

Scheduler::Scheduler() : thread_([this] { loop(); }) {}

Scheduler::~Scheduler() { stop(); }

Scheduler::TaskId Scheduler::every(std::chrono::milliseconds interval, std::string name,
                                   std::function<void()> task) {
  std::lock_guard lock(mutex_);
  TaskId id = next_++;
  if (stopping_) return id;  // never runs
  if (interval < std::chrono::milliseconds(1)) interval = std::chrono::milliseconds(1);
  tasks_[id] = {interval, std::chrono::steady_clock::now() + interval, std::move(name),
                std::move(task)};
  cv_.notify_all();
  return id;
}

void Scheduler::cancel(TaskId id) {
  std::unique_lock lock(mutex_);
  tasks_.erase(id);
  if (std::this_thread::get_id() == thread_.get_id()) return;  // from a task: no waiting on itself
  cv_.wait(lock, [&] { return running_ != id; });
}

void Scheduler::stop() {
  {
    std::unique_lock lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    tasks_.clear();
  }
  cv_.notify_all();
  if (thread_.joinable() && std::this_thread::get_id() != thread_.get_id()) thread_.join();
}

void Scheduler::loop() {
  // Signals are for the thread that waits for them, whenever this one started.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = tasks_.end();
    for (auto it = tasks_.begin(); it != tasks_.end(); ++it)
      if (next == tasks_.end() || it->second.due < next->second.due) next = it;
    if (next == tasks_.end()) {
      cv_.wait(lock);
      continue;
    }
    // A copy: the task (and its time) may be erased while this waits.
    const auto due = next->second.due;
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;  // a task may have come or gone meanwhile
    }
    TaskId id = next->first;
    next->second.due = std::chrono::steady_clock::now() + next->second.interval;
    std::function<void()> fn = next->second.fn;
    std::string name = next->second.name;
    running_ = id;
    lock.unlock();
    try {
      fn();
    } catch (const std::exception &e) {
      log::warning("scheduler", name + " failed: " + e.what());
    } catch (...) {
      log::warning("scheduler", name + " failed");
    }
    lock.lock();
    running_ = 0;
    cv_.notify_all();
  }
}

}  // namespace pgmcp::core
