// The one log sink of caf-raft: every part (member, snapshots, transport)
// writes its lines through it, with a level. raft::config holds the level and
// the function; without a function, lines go to stderr.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace raft {

/// How much a log line matters; lines below the configured level are dropped.
enum class log_level : uint8_t {
  /// Details for debugging a run.
  debug,
  /// Normal events worth a line (a snapshot taken, a peer connected).
  info,
  /// Something refused or retried: bad input, a failed save that is retried.
  warning,
  /// Something that stops a member or loses a function (storage failure).
  error,
  /// As a threshold: log nothing.
  off,
};

/// "debug", "info", "warning", "error" or "off".
const char* to_string(log_level level);

/// Receives each line at or above the threshold. `who` names the writer
/// (a member's id, or a transport's name); `text` carries no newline.
/// Called from actor threads, possibly concurrently: it must be thread-safe.
using log_function
  = std::function<void(log_level level, const std::string& who,
                       const std::string& text)>;

/// Where lines go by default: one line "[raft <who>] <level>: <text>" to
/// stderr.
void log_to_stderr(log_level level, const std::string& who,
                   const std::string& text);

/// A level and a function: what raft::config carries and every part uses.
struct log_sink {
  /// Lines below this level are dropped.
  log_level threshold = log_level::info;
  /// Empty: log_to_stderr.
  log_function function;

  /// Writes one line if `level` reaches the threshold.
  void write(log_level level, const std::string& who,
             const std::string& text) const;

  bool enabled(log_level level) const {
    return level >= threshold && level != log_level::off;
  }
};

} // namespace raft
