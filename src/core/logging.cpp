#include "raft/logging.hpp"

#include <cstdio>

namespace raft {

const char* to_string(log_level level) {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warning:
      return "warning";
    case log_level::error:
      return "error";
    case log_level::off:
      break;
  }
  return "off";
}

void log_to_stderr(log_level level, const std::string& who,
                   const std::string& text) {
  // One fprintf per line: stdio locks the stream, so lines from concurrent
  // actors never interleave.
  std::fprintf(stderr, "[raft %s] %s: %s\n", who.c_str(), to_string(level),
               text.c_str());
}

void log_sink::write(log_level level, const std::string& who,
                     const std::string& text) const {
  if (!enabled(level))
    return;
  if (function)
    function(level, who, text);
  else
    log_to_stderr(level, who, text);
}

} // namespace raft
