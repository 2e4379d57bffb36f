#include "membership_nemesis.hpp"

#include <algorithm>
#include <sstream>

#include "kv_cluster.hpp"

namespace raft::chaos {

using std::chrono::milliseconds;

namespace {

std::vector<std::string> split_ids(const std::string& s) {
  std::vector<std::string> out;
  if (s == "-" || s.empty())
    return out;
  std::istringstream in{s};
  std::string item;
  while (std::getline(in, item, ','))
    out.push_back(item);
  return out;
}

bool contains(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

/// The first line of `text`, for the trace.
std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

} // namespace

membership_nemesis::membership_nemesis(std::vector<std::string> ids,
                                       uint64_t seed, tracer trace)
  : ids_(std::move(ids)),
    rng_(seed ^ 0x6d656d62657273ull),
    trace_(std::move(trace)) {
  for (auto& id : ids_)
    cluster_ += (cluster_.empty() ? "" : ",") + id;
}

membership_nemesis::~membership_nemesis() {
  stop();
}

void membership_nemesis::start() {
  thread_ = std::thread([this] { loop(); });
}

void membership_nemesis::stop() {
  stop_ = true;
  if (thread_.joinable())
    thread_.join();
}

int membership_nemesis::cli(const std::string& what,
                            std::vector<std::string> args, int timeout_ms,
                            std::string* out) {
  // `raft-kv member ...` or `raft-kv transfer ...`: the command first, then
  // the cluster and the timeout, then the rest.
  std::vector<std::string> argv{raft::dist::raft_kv_binary(), args.front(),
                                "--cluster", cluster_, "--timeout",
                                std::to_string(timeout_ms)};
  argv.insert(argv.end(), args.begin() + 1, args.end());
  auto r = raft::dist::run(argv, milliseconds(timeout_ms + 5000));
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& c = counts_[what];
    if (r.code == 0)
      ++c.done;
    else if (r.code == 1)
      ++c.refused;
    else
      ++c.unknown;
  }
  if (what != "list") {
    std::string line = "membership: raft-kv";
    for (auto i = args.begin(); i != args.end(); ++i)
      line += " " + *i;
    line += ": exit " + std::to_string(r.code);
    if (r.code != 0)
      line += " " + first_line(r.err);
    trace_(line);
  }
  if (out)
    *out = r.out + r.err;
  return r.code;
}

bool membership_nemesis::list(configuration& c, std::string* text) {
  std::string out;
  if (cli("list", {"member", "list"}, 3000, &out) != 0) {
    if (text)
      *text = out;
    return false;
  }
  if (text)
    *text = out;
  c = configuration{};
  std::istringstream in{out};
  std::string line;
  while (std::getline(in, line)) {
    auto value = [&](const std::string& prefix) {
      return line.rfind(prefix, 0) == 0 ? line.substr(prefix.size())
                                        : std::string{};
    };
    if (line.rfind("voters: ", 0) == 0)
      c.voters = split_ids(value("voters: "));
    else if (line.rfind("learners: ", 0) == 0)
      c.learners = split_ids(value("learners: "));
    else if (line.rfind("old voters: ", 0) == 0)
      c.joint = true;
  }
  return !c.voters.empty();
}

bool membership_nemesis::nap(double ms) {
  auto end = std::chrono::steady_clock::now()
             + std::chrono::duration<double, std::milli>(ms);
  while (!stop_ && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(milliseconds(20));
  return !stop_;
}

void membership_nemesis::loop() {
  while (nap(rng_.uniform(2000, 4000))) {
    // Each round starts from the configuration as it is: a change whose
    // outcome was unknown may have happened, and one member out at a time
    // is the rule.
    configuration c;
    if (!list(c))
      continue;
    if (repair(c))
      continue;
    if (rng_.chance(0.6))
      cycle();
    else
      transfer(c);
  }
}

bool membership_nemesis::repair(const configuration& c) {
  if (c.joint)
    return true; // Leaving it is automatic (thesis §4.3): look again later.
  for (auto& id : ids_) {
    if (contains(c.voters, id))
      continue;
    if (!contains(c.learners, id))
      cli("add", {"member", "add", id, "--learner"}, 4000);
    else
      cli("promote", {"member", "promote", id}, 6000);
    return true; // One change at a time (thesis §4.3).
  }
  return !c.learners.empty();
}

void membership_nemesis::cycle() {
  auto victim = ids_[rng_.below(ids_.size())];
  if (cli("remove", {"member", "remove", victim}, 4000) != 0)
    return; // Refused, or unknown: the next round looks.
  // Out for 0.5-2.5 s, then back: a learner first, promoted once it caught
  // up (thesis §4.2.1). What fails here is repaired by the next rounds.
  if (!nap(rng_.uniform(500, 2500)))
    return;
  if (cli("add", {"member", "add", victim, "--learner"}, 4000) == 0)
    cli("promote", {"member", "promote", victim}, 6000);
}

void membership_nemesis::transfer(const configuration& c) {
  auto target = c.voters[rng_.below(c.voters.size())];
  cli("transfer", {"transfer", target}, 4000);
}

bool membership_nemesis::restore(milliseconds timeout, std::string& state) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    configuration c;
    if (!list(c, &state)) {
      std::this_thread::sleep_for(milliseconds(300));
      continue;
    }
    if (!repair(c) && c.voters.size() == ids_.size())
      return true;
    // A refusal comes back at once: do not hammer the cluster.
    std::this_thread::sleep_for(milliseconds(200));
  }
  return false;
}

std::map<std::string, membership_nemesis::counts>
membership_nemesis::totals() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return counts_;
}

size_t membership_nemesis::done() const {
  size_t n = 0;
  for (auto& [what, c] : totals())
    if (what != "list")
      n += c.done;
  return n;
}

size_t membership_nemesis::refused() const {
  size_t n = 0;
  for (auto& [what, c] : totals())
    if (what != "list")
      n += c.refused;
  return n;
}

std::string membership_nemesis::summary() const {
  std::ostringstream out;
  bool first = true;
  for (auto& [what, c] : totals()) {
    if (what == "list")
      continue;
    out << (first ? "" : ", ") << what << " " << c.done << "/" << c.refused
        << "/" << c.unknown;
    first = false;
  }
  if (first)
    out << "none";
  out << " (done/refused/unknown)";
  return out.str();
}

} // namespace raft::chaos
