// The chaos test's private network: network namespaces it creates, so that
// partitions touch nothing but its own members.
//
//            namespace craft-<pid>-hub: bridge br0
//      ┌────────────┬──────────┴─┬─────────────┐
//   veth m0      veth m1  ...  veth mN-1     veth cl
//      │            │             │             │
//   craft-<pid>-m0  -m1  ...   -mN-1         craft-<pid>-cl
//   10.213.1.1    10.213.1.2   10.213.1.N    10.213.1.100
//   raft-kv serve (one per namespace)         the test's client actors
//
// Each member namespace holds an nftables table `inet craft` whose output
// chain drops the traffic to the peers it is cut from: a cut link a->b is a
// rule in a's namespace; healing flushes the chain. The root namespace is
// never touched: every command runs inside the namespaces (`ip -n`, `ip
// netns exec`), and the test process moves its own thread into the client
// namespace before it starts the actor system (threads it starts after that
// inherit it). The namespaces are deleted on destruction; namespaces left
// by a test process that died are removed by remove_stale().
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace raft::chaos {

class netns_net {
public:
  using link = std::pair<size_t, size_t>;

  /// Why netns mode cannot run here ("" if it can): not root, no `ip`, no
  /// `nft`.
  static std::string unavailable_reason();

  /// Deletes the namespaces `craft-<pid>-*` whose pid is no longer alive,
  /// after SIGKILLing the processes still inside them. Returns what it did.
  static std::string remove_stale();

  /// Builds the namespaces for `members` members; `dir` holds the rule
  /// files. Throws std::runtime_error naming the failing command (what was
  /// created is removed again).
  netns_net(size_t members, std::string dir);
  ~netns_net();
  netns_net(const netns_net&) = delete;
  netns_net& operator=(const netns_net&) = delete;

  const std::string& member_ns(size_t i) const {
    return member_ns_[i];
  }
  std::string member_addr(size_t i) const;
  std::string client_addr() const;
  const std::string& client_ns() const {
    return client_ns_;
  }

  /// Moves the calling thread into the client namespace. Call it before
  /// starting any thread that must reach the members.
  void enter_client();
  /// Moves the calling thread back to where enter_client() found it.
  void leave_client();

  /// Makes `cuts` the set of cut links (traffic from first to second is
  /// dropped); only the namespaces whose rules change are updated.
  void apply(const std::set<link>& cuts);
  void heal() {
    apply({});
  }
  const std::set<link>& cuts() const {
    return cuts_;
  }

private:
  void sh(const std::vector<std::string>& argv);
  void teardown();

  size_t n_;
  std::string dir_;
  std::string prefix_;
  std::string hub_;
  std::string client_ns_;
  std::vector<std::string> member_ns_;
  std::vector<std::string> created_;
  std::set<link> cuts_;
  int saved_ns_ = -1;
};

/// The path of `ip` (iproute2), or "" if not found.
std::string ip_binary();

} // namespace raft::chaos
