// The package test's application: three members in this process replicate
// a string-appending state machine; every member must end with the same
// state. Exits 0 on success, 1 with a message otherwise.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "raft/member.hpp"

namespace {

// Appends each command to a string; the result is the string so far.
struct journal : raft::state_machine {
  std::string text;
  raft::apply_result apply(raft::index_t, const raft::payload& cmd) override {
    text += cmd.bytes();
    return {text, ""};
  }
  caf::error save_snapshot(std::ostream& out) override {
    out << text;
    return {};
  }
  caf::error restore_snapshot(raft::index_t, std::istream& in) override {
    std::getline(in, text);
    return {};
  }
};

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "consumer: " << what << '\n';
  std::exit(1);
}

} // namespace

int main() {
  caf::actor_system_config cfg;
  raft::add_message_types(cfg);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto on_error = [&](const caf::error& err) { fail(sys.render(err)); };
  auto ok = [](caf::ok_atom) {};

  std::vector<std::string> ids{"a:1", "b:2", "c:3"};
  std::vector<std::shared_ptr<journal>> machines;
  std::vector<raft::member_actor> members;
  for (auto& id : ids) {
    raft::config c;
    c.host_port = id;
    machines.push_back(std::make_shared<journal>());
    auto m = raft::spawn_member(sys, c, machines.back());
    if (!m)
      on_error(m.error());
    members.push_back(*m);
  }
  for (size_t i = 0; i < members.size(); ++i)
    for (size_t j = 0; j < members.size(); ++j)
      if (i != j)
        self->request(members[i], caf::infinite, caf::add_atom::value, ids[j],
                      caf::actor_cast<caf::actor>(members[j]))
          .receive(ok, on_error);
  for (auto& m : members)
    self->request(m, caf::infinite, raft::start_atom::value).receive(ok, on_error);

  std::string expected;
  raft::index_t last_index = 0;
  for (std::string cmd : {"x", "y", "z"}) {
    expected += cmd;
    self->request(members[0], std::chrono::seconds(10), raft::append_atom::value,
                  raft::payload{cmd})
      .receive(
        [&](raft::append_reply& r) {
          if (r.result != expected)
            fail("append " + cmd + " returned '" + r.result + "', expected '"
                 + expected + "'");
          last_index = r.index;
        },
        on_error);
  }
  // Committed on a quorum; every member applies it once it learns the
  // commit index (the next heartbeat): wait for all three.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (auto& m : members) {
    for (;;) {
      raft::member_status st;
      self->request(m, caf::infinite, raft::status_atom::value)
        .receive([&](raft::member_status& s) { st = s; }, on_error);
      if (st.last_applied >= last_index)
        break;
      if (std::chrono::steady_clock::now() > deadline)
        fail(st.id + " applied only up to " + std::to_string(st.last_applied));
      self->receive(caf::after(std::chrono::milliseconds(20)) >> [] {});
    }
  }
  for (auto& m : members)
    self->request(m, caf::infinite, raft::stop_atom::value).receive(ok, on_error);
  for (auto& j : machines)
    if (j->text != expected)
      fail("a member holds '" + j->text + "', expected '" + expected + "'");
  std::cout << "consumer: 3 members replicated '" << expected << "'\n";
  return 0;
}
