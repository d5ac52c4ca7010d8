// One thread for periodic background work, with a clean stop.
#include "core/scheduler.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

using namespace std::chrono_literals;
using pgmcp::core::ScheduledTask;
using pgmcp::core::Scheduler;

namespace {
// Waits (at most 5 s) until pred holds.
template <class P>
bool eventually(P pred) {
  for (int i = 0; i < 500 && !pred(); ++i) std::this_thread::sleep_for(10ms);
  return pred();
}
}  // namespace

TEST(Scheduler, RunsATaskAtItsIntervalUntilCancelled) {
  Scheduler s;
  std::atomic<int> runs{0};
  auto id = s.every(10ms, "count", [&] { ++runs; });
  EXPECT_TRUE(eventually([&] { return runs.load() >= 3; }));
  s.cancel(id);
  int after = runs.load();
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(runs.load(), after) << "a cancelled task does not run again";
}

TEST(Scheduler, CancelWaitsForTheRunInProgress) {
  Scheduler s;
  std::atomic<bool> inside{false}, finished{false};
  auto id = s.every(1ms, "slow", [&] {
    inside = true;
    std::this_thread::sleep_for(100ms);
    finished = true;
  });
  ASSERT_TRUE(eventually([&] { return inside.load(); }));
  s.cancel(id);
  EXPECT_TRUE(finished.load()) << "cancel returned while the task was still running";
}

TEST(Scheduler, AFailingTaskKeepsItsScheduleAndTheOthersRun) {
  Scheduler s;
  std::atomic<int> failures{0}, others{0};
  s.every(5ms, "fails", [&] {
    ++failures;
    throw std::runtime_error("boom");
  });
  s.every(5ms, "fine", [&] { ++others; });
  EXPECT_TRUE(eventually([&] { return failures.load() >= 3 && others.load() >= 3; }));
}

TEST(Scheduler, ARegistrationEndsItsTaskAndStopEndsAll) {
  Scheduler s;
  std::atomic<int> runs{0};
  {
    ScheduledTask t(s, s.every(5ms, "scoped", [&] { ++runs; }));
    EXPECT_TRUE(eventually([&] { return runs.load() >= 1; }));
  }
  int after = runs.load();
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(runs.load(), after);
  std::atomic<int> late{0};
  s.every(5ms, "until stop", [&] { ++late; });
  EXPECT_TRUE(eventually([&] { return late.load() >= 1; }));
  s.stop();
  int at_stop = late.load();
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(late.load(), at_stop);
  s.every(1ms, "after stop", [&] { ++late; });  // never runs, never throws
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(late.load(), at_stop);
}

TEST(Scheduler, ATaskMayCancelItself) {
  Scheduler s;
  std::atomic<int> runs{0};
  Scheduler::TaskId id = 0;
  std::atomic<bool> ready{false};
  id = s.every(5ms, "once", [&] {
    while (!ready.load()) std::this_thread::yield();
    ++runs;
    s.cancel(id);
  });
  ready = true;
  EXPECT_TRUE(eventually([&] { return runs.load() == 1; }));
  std::this_thread::sleep_for(40ms);
  EXPECT_EQ(runs.load(), 1);
}

TEST(Scheduler, ItsThreadTakesNoSignals) {
  // The process waits for SIGTERM on one thread (sigwait); a scheduler made
  // before signals were blocked must not take them (its default action would
  // end the process).
  Scheduler s;
  std::atomic<bool> blocked{false};
  s.every(1ms, "mask", [&] {
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    blocked = sigismember(&mask, SIGTERM) == 1 && sigismember(&mask, SIGHUP) == 1;
  });
  EXPECT_TRUE(eventually([&] { return blocked.load(); }));
}
