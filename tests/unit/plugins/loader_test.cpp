#include "plugins/loader.hpp"

#include <dlfcn.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/settings.hpp"
#include "plugins/instances.hpp"

using pgmcp::plugins::PluginRegistry;
using testing::HasSubstr;

namespace {

const std::filesystem::path kCases = PGMCP_TEST_PLUGIN_DIR;
const std::filesystem::path kPlugins = PGMCP_PLUGIN_DIR;

// The rate limiter plugins, loaded by file: these tests do not need the
// database driver (whose libraries LeakSanitizer cannot scan once unloaded).
void load_rate_limiters(PluginRegistry &r) {
  for (const char *f : {"token-bucket.so", "fixed-window.so"}) {
    auto problem = r.load_file(kPlugins / f);
    ASSERT_FALSE(problem.has_value()) << problem->message();
  }
}

std::string refusal(const std::string &file) {
  PluginRegistry r;
  auto p = r.load_file(kCases / file);
  return p ? p->message() : "loaded";
}

TEST(LoaderTest, RefusesAFileThatIsNotASharedLibrary) {
  EXPECT_THAT(refusal("not-a-library.so"), HasSubstr("not-a-library.so: not a shared library"));
}

TEST(LoaderTest, RefusesALibraryWithoutTheEntrySymbol) {
  EXPECT_THAT(refusal("no-entry.so"), HasSubstr("no-entry.so: no pgmcp_plugin_entry symbol"));
}

TEST(LoaderTest, RefusesAPluginThatDeclinesThisAbi) {
  EXPECT_THAT(refusal("null-descriptor.so"), HasSubstr("does not support plugin ABI major 1"));
}

TEST(LoaderTest, RefusesTheWrongAbiMajor) {
  EXPECT_THAT(
      refusal("wrong-abi.so"),
      HasSubstr("wrong-abi.so: built for plugin ABI major 99, but this pg-mcp speaks major 1"));
}

TEST(LoaderTest, RefusesADescriptorSmallerThanV1) {
  EXPECT_THAT(refusal("tiny-descriptor.so"),
              HasSubstr("malformed descriptor: struct_size 20 is smaller than the v1 minimum"));
}

TEST(LoaderTest, RefusesABadId) {
  EXPECT_THAT(refusal("bad-id.so"), HasSubstr("malformed descriptor: the id must be"));
}

TEST(LoaderTest, RefusesAPluginWithNoKnownCapability) {
  EXPECT_THAT(refusal("no-capability.so"), HasSubstr("offers no capability this host knows"));
}

TEST(LoaderTest, RefusesAnInitThatFailsWithItsMessage) {
  EXPECT_THAT(
      refusal("init-fails.so"),
      HasSubstr("init failed (status 2): licence file /nonexistent/licence.key is missing"));
}

TEST(LoaderTest, RefusesAnInitThatThrows) {
  EXPECT_THAT(refusal("init-throws.so"),
              HasSubstr("plugin 'init-throws' init threw: cannot reach the licence server"));
}

TEST(LoaderTest, RefusesADuplicateIdNamingTheFirstFile) {
  PluginRegistry r;
  EXPECT_FALSE(r.load_file(kCases / "dup-first.so").has_value());
  auto p = r.load_file(kCases / "dup-second.so");
  ASSERT_TRUE(p.has_value());
  EXPECT_THAT(p->message(),
              HasSubstr("dup-second.so: duplicate plugin id 'duplicate' (already loaded from"));
  EXPECT_THAT(p->message(), HasSubstr("dup-first.so"));
}

TEST(LoaderTest, ADirectoryOfBadPluginsStillLoadsTheGoodOnes) {
  PluginRegistry r;
  auto problems = r.load_directory(kCases);
  // Every bad case is refused with its own reason; the good ones load.
  EXPECT_EQ(problems.size(), 11u);
  EXPECT_EQ(r.ids(), "abi10-grant-all, c-grant-all, duplicate, newer-minor");
  for (const auto &p : problems) EXPECT_FALSE(p.reason.empty()) << p.file;
}

TEST(LoaderTest, AMissingDirectoryIsOneProblem) {
  PluginRegistry r;
  auto problems = r.load_directory("/nonexistent/pg-mcp/plugins");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].message(), HasSubstr("plugin folder does not exist"));
}

TEST(LoaderTest, ListsRealPluginsWithVersionsAndKinds) {
  PluginRegistry r;
  load_rate_limiters(r);
  auto tb = r.find("token-bucket");
  ASSERT_TRUE(tb);
  EXPECT_EQ(tb->info().version, "1.0.0");
  EXPECT_EQ(tb->info().abi_major, 1u);
  EXPECT_EQ(tb->info().kinds(), "rate limiter");
  EXPECT_NE(tb->capability(PGMCP_RATELIMIT_V1), nullptr);
  EXPECT_EQ(tb->capability(PGMCP_LLM_V1), nullptr);
  EXPECT_EQ(tb->capability("pgmcp.ratelimit/2"), nullptr);
  EXPECT_TRUE(r.find("fixed-window"));
}

pgmcp::config::Settings settings_for(const std::string &ini) {
  return pgmcp::config::load_settings(pgmcp::config::parse_ini(ini, "t.ini"),
                                      [](const std::string &) -> const char * { return nullptr; });
}

bool library_loaded(const std::filesystem::path &file) {
  void *h = ::dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  if (h == nullptr) return false;
  ::dlclose(h);
  return true;
}

TEST(LoaderTest, ALibraryStaysLoadedWhileAnInstanceLivesAndUnloadsAfter) {
  const auto file = kCases / "c-grant-all.so";
  pgmcp::plugins::Instances instances;
  {
    PluginRegistry r;
    ASSERT_FALSE(r.load_file(file).has_value());
    instances = pgmcp::plugins::create_instances(
        settings_for("[rate_limiter.x]\nplugin = c-grant-all\n"), r);
  }
  // The registry is gone; the instance still works because it holds the library.
  ASSERT_TRUE(library_loaded(file));
  auto &limiter = *instances.rate_limiters.at("x");
  EXPECT_TRUE(limiter.try_acquire("k").granted);
  using LiveFn = int (*)();
  void *h = ::dlopen(file.c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(h, nullptr);
  auto live = reinterpret_cast<LiveFn>(::dlsym(h, "pgmcp_test_live_instances"));
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live(), 1);
  ::dlclose(h);
  instances.rate_limiters.clear();
  EXPECT_FALSE(library_loaded(file));
}

// The ABI's growth rule, proven both ways: a plugin built against the frozen
// 1.0 headers works in today's host, and one built against a newer minor
// (descriptor and table with a field appended) works in a host that does not
// know the field.
TEST(LoaderTest, PluginsOfAnOlderAndANewerMinorLoadAndWork) {
  for (const char *id : {"abi10-grant-all", "newer-minor"}) {
    PluginRegistry r;
    auto problem = r.load_file(kCases / (std::string(id) + ".so"));
    ASSERT_FALSE(problem.has_value()) << problem->message();
    auto lib = r.find(id);
    ASSERT_TRUE(lib);
    EXPECT_EQ(lib->info().kinds(), "rate limiter");
    auto instances = pgmcp::plugins::create_instances(
        settings_for(std::string("[rate_limiter.x]\nplugin = ") + id + "\n"), r);
    auto &limiter = *instances.rate_limiters.at("x");
    EXPECT_TRUE(limiter.try_acquire("k").granted) << id;
    EXPECT_TRUE(limiter.acquire("k", 1, std::chrono::milliseconds(10)).granted) << id;
  }
  PluginRegistry r;
  ASSERT_FALSE(r.load_file(kCases / "abi10-grant-all.so").has_value());
  EXPECT_EQ(r.find("abi10-grant-all")->info().abi_minor, 0u);
  ASSERT_FALSE(r.load_file(kCases / "newer-minor.so").has_value());
  EXPECT_EQ(r.find("newer-minor")->info().abi_minor, PGMCP_ABI_MINOR + 1u);
}

TEST(LoaderTest, RefusesATableWithARequiredFunctionMissing) {
  PluginRegistry r;
  auto problem = r.load_file(kCases / "null-function.so");
  ASSERT_TRUE(problem.has_value());
  EXPECT_THAT(problem->message(),
              HasSubstr("malformed pgmcp.ratelimit/1 table: its required function try_acquire is "
                        "NULL"));
  // the table check is the host's: a NULL is never called
  EXPECT_EQ(pgmcp::plugins::capability_problem("pgmcp.ratelimit/1", nullptr), "");
}

TEST(InstancesTest, ReportsUnknownPluginsWrongKindsAndPluginRefusals) {
  PluginRegistry r;
  load_rate_limiters(r);
  ASSERT_FALSE(r.load_file(kCases / "c-grant-all.so").has_value());
  try {
    pgmcp::plugins::create_instances(
        settings_for("[rate_limiter.a]\nplugin = nope\n"
                     "[database.b]\nplugin = token-bucket\n"
                     "[rate_limiter.c]\nplugin = c-grant-all\nrefuse = yes\n"
                     "[rate_limiter.d]\nplugin = token-bucket\nrate = 10/min\nburst = ten\n"),
        r);
    FAIL() << "expected errors";
  } catch (const pgmcp::config::ConfigError &e) {
    std::string m = e.what();
    EXPECT_THAT(m, HasSubstr("t.ini:1: [rate_limiter.a]: plugin 'nope' is not loaded (loaded: "
                             "c-grant-all, fixed-window, token-bucket"));
    EXPECT_THAT(m, HasSubstr("[database.b]: plugin 'token-bucket' is not a database driver (it "
                             "offers: rate limiter)"));
    EXPECT_THAT(m, HasSubstr("[rate_limiter.c]: refuse is set"));
    EXPECT_THAT(m, HasSubstr("[rate_limiter.d]: burst = 'ten' is not a whole number"));
  }
}

}  // namespace
