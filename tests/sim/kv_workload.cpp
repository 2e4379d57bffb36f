#include "kv_workload.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

#include "kv_machine.hpp"

namespace raft::test::sim {

namespace lin = testing::kv;

namespace {

uint64_t uniform(std::mt19937_64& rng, uint64_t lo, uint64_t hi) {
  return std::uniform_int_distribution<uint64_t>{lo, hi}(rng);
}

bool chance(std::mt19937_64& rng, double p) {
  return std::uniform_real_distribution<double>{0.0, 1.0}(rng) < p;
}

} // namespace

std::string kv_workload::setup(std::mt19937_64& rng) {
  auto nkeys = uniform(rng, 1, 3);
  for (size_t k = 0; k < nkeys; ++k)
    keys_.push_back(std::string(1, static_cast<char>('a' + k)));
  return "keys " + std::to_string(nkeys);
}

testing::request kv_workload::issue(const testing::client_call& call,
                                    size_t& id) {
  auto& rng = *call.rng;
  auto& key = keys_[uniform(rng, 0, keys_.size() - 1)];
  auto value = "v" + std::to_string(call.client) + "."
               + std::to_string(++counters_[call.client]);
  lin::call c;
  testing::request req;
  auto x = uniform(rng, 0, 99);
  if (x < 40) {
    c = lin::call::put(key, value);
    req.command = put_cmd(key, value);
  } else if (x < 70) {
    c = lin::call::get(key);
    req.command = get_cmd(key);
    req.query = call.queries && chance(rng, 0.5);
  } else if (x < 90) {
    auto& seen = written_[key];
    auto expected
      = seen.empty() || chance(rng, 0.2)
          ? std::string{"v0.0"}
          : seen[uniform(rng, seen.size() > 3 ? seen.size() - 3 : 0,
                         seen.size() - 1)];
    c = lin::call::cas(key, expected, value);
    req.command = cas_cmd(key, expected, value);
  } else {
    c = lin::call::del(key);
    req.command = del_cmd(key);
  }
  if (c.kind == lin::op_kind::put || c.kind == lin::op_kind::cas)
    written_[key].push_back(value);
  id = hist_.invoke(call.client, call.time, std::move(c));
  return req;
}

std::string kv_workload::completed(size_t id, uint64_t time,
                                   const apply_result& reply) {
  auto kind = hist_.operations().at(id).op.kind;
  auto& err = reply.error;
  lin::response resp;
  if (err.empty())
    resp = kind == lin::op_kind::get ? lin::response::found(reply.result)
                                     : lin::response::ok();
  else if (err == "not_found")
    resp = lin::response::not_found();
  else if (err.compare(0, 9, "mismatch:") == 0)
    resp = lin::response::mismatch();
  std::string why;
  if (!err.empty() && err != "not_found" && err.compare(0, 9, "mismatch:") != 0)
    why = "unexpected apply error '" + err + "' for "
          + lin::to_string(hist_.operations().at(id));
  hist_.complete(id, time, resp);
  return why;
}

void kv_workload::failed(size_t id, uint64_t time) {
  hist_.fail(id, time);
}

testing::history_verdict kv_workload::check(uint64_t budget) {
  lin::check_options copts;
  copts.max_steps = budget;
  auto r = lin::check(hist_, copts);
  testing::history_verdict v;
  v.operations = r.operations;
  v.steps = r.steps;
  v.key = r.key;
  v.explanation = r.explanation;
  switch (r.status) {
    case lin::verdict::linearizable:
      v.status = testing::history_verdict::linearizable;
      break;
    case lin::verdict::unknown:
      v.status = testing::history_verdict::undecided;
      break;
    case lin::verdict::violation: {
      v.status = testing::history_verdict::violation;
      // The events around the last operation that fits and the ones that
      // do not.
      uint64_t from = UINT64_MAX;
      uint64_t to = 0;
      for (auto& op : r.unplaced) {
        from = std::min(from, op.invoke);
        to = std::max(to, op.status == lin::outcome::ok ? op.complete
                                                        : op.invoke);
      }
      if (!r.prefix.empty())
        from = std::min(from, r.prefix.back().invoke);
      if (from != UINT64_MAX) {
        v.window_from = from;
        v.window_to = to;
      }
      break;
    }
  }
  return v;
}

} // namespace raft::test::sim
