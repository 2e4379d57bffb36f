#include "schedule.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace raft::chaos {

// -- randomness -----------------------------------------------------------------

uint64_t rng::next() {
  // splitmix64 (Steele, Lea, Flood 2014).
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<size_t> rng::permutation(size_t n) {
  std::vector<size_t> xs(n);
  for (size_t i = 0; i < n; ++i)
    xs[i] = i;
  for (size_t i = n; i > 1; --i)
    std::swap(xs[i - 1], xs[below(i)]);
  return xs;
}

// -- faults ---------------------------------------------------------------------

std::string to_string(fault x) {
  switch (x) {
    case fault::kill:
      return "kill";
    case fault::kill_leader:
      return "kill_leader";
    case fault::pause:
      return "pause";
    case fault::pause_leader:
      return "pause_leader";
    case fault::majority_down:
      return "majority_down";
    case fault::leader_churn:
      return "leader_churn";
    case fault::partition:
      return "partition";
    case fault::isolate_leader:
      return "isolate_leader";
    case fault::one_way:
      return "one_way";
    case fault::cut_link:
      return "cut_link";
    case fault::unexpected_exit:
      return "unexpected_exit";
  }
  return "?";
}

namespace {

std::string fmt(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", x);
  return buf;
}

std::string members_text(const std::vector<size_t>& ms) {
  std::string s;
  for (auto m : ms)
    s += (s.empty() ? "m" : ",m") + std::to_string(m);
  return s;
}

std::string cuts_text(const std::vector<link>& cuts) {
  // Pairs cut both ways print as a<->b, the others as a->b.
  std::set<link> all(cuts.begin(), cuts.end());
  std::string s;
  for (auto& [a, b] : cuts) {
    bool both = all.count({b, a}) > 0;
    if (both && b < a)
      continue;
    s += (s.empty() ? "m" : " m") + std::to_string(a) + (both ? "<->m" : "->m")
         + std::to_string(b);
  }
  return s;
}

} // namespace

std::string planned_fault::describe() const {
  auto d = " for " + fmt(duration) + " s";
  switch (kind) {
    case fault::kill:
      return "kill " + members_text(members) + ", restart after " + fmt(duration)
             + " s";
    case fault::kill_leader:
      return "kill the leader (else " + members_text(members)
             + "), restart after " + fmt(duration) + " s";
    case fault::pause:
      return "pause " + members_text(members) + d;
    case fault::pause_leader:
      return "pause the leader (else " + members_text(members) + ")" + d;
    case fault::majority_down:
      return (hard ? "kill " : "pause ") + members_text(members)
             + " (a majority)" + d;
    case fault::leader_churn:
      return "kill every new leader" + d;
    case fault::partition:
    case fault::one_way:
    case fault::cut_link:
      return to_string(kind) + " " + cuts_text(cuts) + d;
    case fault::isolate_leader:
      return "isolate the leader (else " + members_text(members) + ")" + d;
    case fault::unexpected_exit:
      return "unexpected exit";
  }
  return "?";
}

std::vector<planned_fault> make_plan(const plan_options& opts) {
  rng r{opts.seed * 0x2545f4914f6cdd1dULL + 0x632be59bd9b4e5ebULL};
  const size_t n = opts.members;
  const size_t minority = (n - 1) / 2;
  // A member counts as down from its fault until it has recovered: the
  // restart or SIGCONT plus the time to catch up. -1: a leader, not known
  // when planning.
  struct down {
    double until;
    long member;
  };
  std::vector<down> downs;
  double network_until = 0;
  std::vector<planned_fault> plan;
  // The cluster gets a moment to elect its first leader.
  double t = 1.0;
  for (;;) {
    t += r.uniform(0.5, 3.0);
    if (t >= opts.seconds)
      break;
    downs.erase(std::remove_if(downs.begin(), downs.end(),
                               [t](const down& d) { return d.until <= t; }),
                downs.end());
    std::vector<size_t> up;
    for (size_t i = 0; i < n; ++i)
      if (std::none_of(downs.begin(), downs.end(), [i](const down& d) {
            return d.member == static_cast<long>(i);
          }))
        up.push_back(i);
    bool can_down = downs.size() < minority && !up.empty();
    bool can_net = opts.partitions && t >= network_until;
    // Weights of the kinds that fit now.
    std::vector<std::pair<fault, int>> weights;
    if (can_down) {
      weights.emplace_back(fault::kill, 18);
      weights.emplace_back(fault::kill_leader, 12);
      weights.emplace_back(fault::pause, 12);
      weights.emplace_back(fault::pause_leader, 12);
    }
    if (downs.empty()) {
      weights.emplace_back(fault::majority_down, 4);
      weights.emplace_back(fault::leader_churn, 5);
    }
    if (can_net) {
      weights.emplace_back(fault::partition, 14);
      weights.emplace_back(fault::isolate_leader, 10);
      weights.emplace_back(fault::one_way, 8);
      weights.emplace_back(fault::cut_link, 6);
    }
    if (weights.empty())
      continue;
    int total = 0;
    for (auto& w : weights)
      total += w.second;
    auto x = static_cast<int>(r.below(static_cast<size_t>(total)));
    fault kind = weights.back().first;
    for (auto& w : weights) {
      if (x < w.second) {
        kind = w.first;
        break;
      }
      x -= w.second;
    }
    planned_fault f;
    f.at = t;
    f.kind = kind;
    switch (kind) {
      case fault::kill:
      case fault::pause: {
        auto m = up[r.below(up.size())];
        f.members = {m};
        f.duration = kind == fault::kill ? r.uniform(0.3, 3.0)
                                         : r.uniform(0.2, 3.0);
        downs.push_back({t + f.duration + 1.0, static_cast<long>(m)});
        break;
      }
      case fault::kill_leader:
      case fault::pause_leader:
        f.members = r.permutation(n);
        f.duration = kind == fault::kill_leader ? r.uniform(0.3, 3.0)
                                                : r.uniform(0.2, 3.0);
        downs.push_back({t + f.duration + 1.0, -1});
        break;
      case fault::majority_down: {
        auto order = r.permutation(n);
        order.resize(minority + 1);
        std::sort(order.begin(), order.end());
        f.members = order;
        f.hard = r.chance(0.5);
        f.duration = r.uniform(0.5, 2.0);
        // Everyone counts as down until the cluster has recovered.
        for (size_t i = 0; i < n; ++i)
          downs.push_back({t + f.duration + 1.5, static_cast<long>(i)});
        break;
      }
      case fault::leader_churn: {
        f.duration = r.uniform(2.0, 6.0);
        for (int k = 0; k < 8; ++k)
          f.delays.push_back(r.uniform(0.2, 1.2));
        // It takes the minority's whole budget while it lasts.
        for (size_t k = 0; k < minority; ++k)
          downs.push_back({t + f.duration + 1.5, -1});
        break;
      }
      case fault::partition: {
        auto order = r.permutation(n);
        auto k = 1 + r.below(minority); // the minority's size
        for (size_t a = 0; a < k; ++a)
          for (size_t b = k; b < n; ++b) {
            f.cuts.emplace_back(order[a], order[b]);
            f.cuts.emplace_back(order[b], order[a]);
          }
        f.duration = r.uniform(0.5, 4.0);
        break;
      }
      case fault::isolate_leader:
        f.members = r.permutation(n);
        f.duration = r.uniform(0.5, 4.0);
        break;
      case fault::one_way: {
        std::set<link> cuts;
        auto count = 1 + r.below(3);
        while (cuts.size() < count) {
          auto a = r.below(n);
          auto b = r.below(n);
          if (a != b)
            cuts.emplace(a, b);
        }
        f.cuts.assign(cuts.begin(), cuts.end());
        f.duration = r.uniform(0.5, 4.0);
        break;
      }
      case fault::cut_link: {
        auto order = r.permutation(n);
        f.cuts = {{order[0], order[1]}, {order[1], order[0]}};
        f.duration = r.uniform(0.5, 4.0);
        break;
      }
      case fault::unexpected_exit:
        break;
    }
    if (kind == fault::partition || kind == fault::isolate_leader
        || kind == fault::one_way || kind == fault::cut_link)
      network_until = t + f.duration + 0.3;
    plan.push_back(std::move(f));
  }
  return plan;
}

std::string to_string(const std::vector<planned_fault>& plan) {
  std::string s;
  for (auto& f : plan) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "  [%7.3f s] ", f.at);
    s += buf + f.describe() + "\n";
  }
  return s;
}

} // namespace raft::chaos
