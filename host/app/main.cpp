// pg-mcp: the MCP server for PostgreSQL.
#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <Poco/Util/ServerApplication.h>

#include <cstdio>
#include <iostream>

#include "config/settings.hpp"
#include "log/log.hpp"
#include "plugins/instances.hpp"
#include "plugins/loader.hpp"

namespace {

using Poco::Util::Option;
using Poco::Util::OptionSet;

// Exit codes: 0 ok, 1 bad config or refused start, 2 bad usage.
constexpr int kExitConfig = 1;
constexpr int kExitUsage = 2;

class PgMcpApp : public Poco::Util::ServerApplication {
 protected:
  // Not ServerApplication's own options: --daemon and --pidfile have no place
  // in a stdio server, and service managers supervise the HTTP one.
  void defineOptions(OptionSet &options) override {
    Application::defineOptions(options);
    options.addOption(Option("config", "c", "read the configuration from FILE (*.ini or *.json)")
                          .required(false)
                          .repeatable(false)
                          .argument("FILE"));
    options.addOption(Option("check-config", "", "validate the configuration (and load its plugins) and exit: 0 if valid, 1 if not"));
    options.addOption(Option("list-plugins", "", "list the plugins found in the plugin folder and exit"));
    options.addOption(Option("version", "v", "print the version and exit"));
    options.addOption(Option("help", "h", "print this help and exit"));
  }

  void handleOption(const std::string &name, const std::string &value) override {
    ServerApplication::handleOption(name, value);
    if (name == "config") config_path_ = value;
    else if (name == "check-config") action_ = Action::check_config;
    else if (name == "list-plugins") action_ = Action::list_plugins;
    else if (name == "version") action_ = Action::version;
    else if (name == "help") action_ = Action::help;
  }

  int main(const std::vector<std::string> &args) override {
    if (!args.empty()) {
      std::cerr << "pg-mcp: unexpected argument '" << args.front() << "' (see pg-mcp --help)\n";
      return kExitUsage;
    }
    switch (action_) {
      case Action::help: return help();
      case Action::version:
        std::cout << "pg-mcp " << PGMCP_VERSION << " (plugin ABI " << PGMCP_ABI_MAJOR << "."
                  << PGMCP_ABI_MINOR << ")\n";
        return EXIT_OK;
      case Action::list_plugins: return list_plugins();
      case Action::check_config: return check_config();
      case Action::serve: return serve();
    }
    return EXIT_OK;
  }

 private:
  enum class Action { serve, check_config, list_plugins, version, help };

  int help() {
    Poco::Util::HelpFormatter f(options());
    f.setCommand("pg-mcp");
    f.setUsage("[--config FILE] [--check-config | --list-plugins | --version | --help]");
    f.setHeader("An MCP server for PostgreSQL. Logs go to stderr; with the stdio transport, stdout carries only MCP messages.");
    f.setUnixStyle(true);
    f.format(std::cout);
    return EXIT_OK;
  }

  // Reads and validates the config file (or the defaults without one).
  pgmcp::config::Settings settings() {
    if (config_path_.empty()) return pgmcp::config::default_settings();
    auto file = pgmcp::config::load_config_file(config_path_);
    return pgmcp::config::load_settings(file, pgmcp::config::process_environment());
  }

  std::filesystem::path plugin_dir(const pgmcp::config::Settings &s) {
    return s.plugin_dir.empty() ? pgmcp::plugins::default_plugin_dir()
                                : std::filesystem::path(s.plugin_dir);
  }

  // Loads the plugin folder; each refused file is reported and skipped.
  std::vector<pgmcp::plugins::LoadProblem> load_plugins(const pgmcp::config::Settings &s) {
    auto problems = registry_.load_directory(plugin_dir(s));
    for (const auto &p : problems) pgmcp::log::warning("host", "plugin refused: " + p.message());
    return problems;
  }

  int list_plugins() {
    pgmcp::config::Settings s;
    try {
      s = settings();
    } catch (const pgmcp::config::ConfigError &e) {
      std::cerr << e.what() << "\n";
      return kExitConfig;
    }
    pgmcp::log::configure(s.log_level, s.log_format);
    load_plugins(s);
    std::printf("%-20s %-16s %-10s %-5s %s\n", "ID", "KIND", "VERSION", "ABI", "FILE");
    for (const auto &lib : registry_.list()) {
      const auto &i = lib->info();
      std::string abi = std::to_string(i.abi_major) + "." + std::to_string(i.abi_minor);
      std::printf("%-20s %-16s %-10s %-5s %s\n", i.id.c_str(), i.kinds().c_str(),
                  i.version.c_str(), abi.c_str(), i.file.string().c_str());
    }
    return EXIT_OK;
  }

  int check_config() {
    if (config_path_.empty()) {
      std::cerr << "pg-mcp: --check-config needs --config FILE\n";
      return kExitUsage;
    }
    try {
      auto s = settings();
      pgmcp::log::configure(s.log_level, s.log_format);
      load_plugins(s);
      auto instances = pgmcp::plugins::create_instances(s, registry_);
      std::cout << config_path_ << ": OK (" << s.rate_limiters.size() << " rate limiter(s), "
                << s.databases.size() << " database(s), " << s.llms.size() << " LLM(s); plugins: "
                << registry_.ids() << ")\n";
      return EXIT_OK;
    } catch (const pgmcp::config::ConfigError &e) {
      std::cerr << e.what() << "\n";
      return kExitConfig;
    }
  }

  int serve() {
    pgmcp::config::Settings s;
    pgmcp::plugins::Instances instances;
    try {
      s = settings();
      pgmcp::log::configure(s.log_level, s.log_format);
      load_plugins(s);
      instances = pgmcp::plugins::create_instances(s, registry_);
    } catch (const pgmcp::config::ConfigError &e) {
      std::cerr << e.what() << "\n";
      return kExitConfig;
    }
    pgmcp::log::info("host", "pg-mcp " PGMCP_VERSION " ready; plugins: " + registry_.ids());
    pgmcp::log::error("host", "this build has no MCP transport yet; nothing to serve");
    return kExitConfig;
  }

  std::string config_path_;
  Action action_ = Action::serve;
  pgmcp::plugins::PluginRegistry registry_;
};

}  // namespace

int main(int argc, char **argv) {
  PgMcpApp app;
  try {
    // init() parses the options; ServerApplication::run(argc, argv) would turn
    // a bad option into a log line and exit code 78.
    app.init(argc, argv);
    return static_cast<Poco::Util::Application &>(app).run();
  } catch (const Poco::Exception &e) {
    std::cerr << "pg-mcp: " << e.displayText() << " (see pg-mcp --help)\n";
    return kExitUsage;
  } catch (const std::exception &e) {
    std::cerr << "pg-mcp: " << e.what() << "\n";
    return kExitUsage;
  }
}
