// The example in README.md: it is compiled and run as a test, and the test
// `example_readme_in_sync` checks that README.md shows the code between the
// README markers verbatim.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "raft/member.hpp"

// README-BEGIN
// The application's state machine: adds up the numbers it is sent.
struct counter : raft::state_machine {
  long total = 0;
  raft::apply_result apply(raft::index_t, const raft::payload& cmd) override {
    total += std::stol(cmd.bytes());
    return {std::to_string(total), ""}; // result, application error
  }
  caf::error save_snapshot(std::ostream& out) override { out << total; return {}; }
  caf::error restore_snapshot(raft::index_t, std::istream& in) override { in >> total; return {}; }
};

int main() {
  caf::actor_system_config cfg;
  raft::add_message_types(cfg);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};
  auto fail = [&](const caf::error& err) { std::cerr << sys.render(err) << '\n'; std::exit(1); };
  auto ok = [](caf::ok_atom) {};
  std::vector<std::string> ids{"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"};
  std::vector<raft::member_actor> members;
  for (auto& id : ids) {
    raft::config c;
    c.host_port = id; // the member's id
    auto m = raft::spawn_member(sys, c, std::make_shared<counter>());
    if (!m)
      fail(m.error());
    members.push_back(*m);
  }
  for (size_t i = 0; i < members.size(); ++i) // before start: add the others
    for (size_t j = 0; j < members.size(); ++j)
      if (i != j)
        self->request(members[i], caf::infinite, caf::add_atom::value, ids[j],
                      caf::actor_cast<caf::actor>(members[j])).receive(ok, fail);
  for (auto& m : members)
    self->request(m, caf::infinite, raft::start_atom::value).receive(ok, fail);
  // Any member takes appends: it waits for a leader and forwards to it. The
  // reply comes once the command is committed and applied on that member.
  for (auto cmd : {"1", "2", "39"})
    self->request(members[0], std::chrono::seconds(10), raft::append_atom::value, raft::payload{cmd})
      .receive([](raft::append_reply& r) { std::cout << "index " << r.index << ": " << r.result << '\n'; },
               fail);
  self->request(members[1], caf::infinite, raft::status_atom::value)
    .receive([](raft::member_status& s) {
               std::cout << s.id << " is " << to_string(s.role) << " in term " << s.term
                         << ", leader " << s.leader << ", commit index " << s.commit_index << '\n';
             },
             fail);
  for (auto& m : members)
    self->request(m, caf::infinite, raft::stop_atom::value).receive(ok, fail);
}
// README-END
