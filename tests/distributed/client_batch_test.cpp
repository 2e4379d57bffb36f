// A client's batch crosses the listener's bridge as one request to the
// member (member_actor's batch append and query) and comes back as one
// frame: every command still gets its own outcome, in order (issue 14).
#define BOOST_TEST_MODULE distributed_client_batch
#include <boost/test/unit_test.hpp>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "raft/client.hpp"
#include "raft/errc.hpp"
#include "raft/remote.hpp"

#include "kv_cluster.hpp"
#include "kv_command.hpp"
#include "kv_state_machine.hpp"

using namespace raft::dist;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct system_with_remote {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  system_with_remote() {
    BOOST_REQUIRE(!raft::configure_remote(cfg, {}));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

struct outcome {
  bool done = false;
  raft::append_reply reply;
  caf::error error;
};

/// Sends every message at once from one actor (so that the client holds
/// most of them back and sends them in batches) and waits for the answers.
std::vector<outcome> send_all(caf::actor_system& sys, raft::client_actor c,
                              std::vector<caf::message> msgs) {
  auto out = std::make_shared<std::vector<outcome>>(msgs.size());
  {
    caf::scoped_actor self{sys};
    auto n = msgs.size();
    auto left = std::make_shared<size_t>(n);
    auto dest = caf::actor_cast<caf::actor>(c); // requests as messages
    auto waiter = sys.spawn([=](caf::event_based_actor* a) {
      for (size_t i = 0; i < n; ++i)
        a->request(dest, seconds(20), msgs[i])
          .then(
            [=](raft::append_reply& r) {
              (*out)[i].done = true;
              (*out)[i].reply = std::move(r);
              --*left;
            },
            [=](caf::error& e) {
              (*out)[i].done = true;
              (*out)[i].error = std::move(e);
              --*left;
            });
    });
    self->wait_for(waiter);
  }
  return std::move(*out);
}

} // namespace

BOOST_AUTO_TEST_CASE(batched_requests_keep_their_own_outcomes) {
  temp_dir dir;
  system_with_remote a;
  raft::config cfg;
  cfg.host_port = "127.0.0.1:" + std::to_string(free_port());
  cfg.log_dir = dir.path + "/log";
  raft::remote_options opts;
  opts.members = {cfg.host_port}; // a cluster of one
  auto m = raft::spawn_remote_member(*a.sys, cfg,
                                     std::make_shared<kv::machine>(), opts);
  BOOST_REQUIRE(m);
  caf::scoped_actor self{*a.sys};
  self->request(m->member, seconds(5), raft::start_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) { BOOST_FAIL("start"); });
  system_with_remote b;
  raft::client_options copts;
  copts.cluster = {cfg.host_port};
  copts.window = 1; // one message in flight: the rest wait and batch up
  auto client = raft::spawn_client(*b.sys, copts);
  BOOST_REQUIRE(client);
  // Wait until the member leads (a cluster of one elects itself).
  BOOST_REQUIRE(wait_until(
    [&] {
      auto r = send_all(*b.sys, *client,
                        {caf::make_message(raft::append_atom::value,
                                           kv::put_cmd("warm", "1"))});
      return !r[0].error;
    },
    milliseconds(10000), milliseconds(50)));
  // Puts of distinct keys, each followed by a get of the key it wrote, and
  // a get of a missing key: the application's error stays with its command.
  std::vector<caf::message> msgs;
  for (int k = 0; k < 60; ++k) {
    auto key = "k" + std::to_string(k);
    msgs.push_back(caf::make_message(raft::append_atom::value,
                                     kv::put_cmd(key, "v" + std::to_string(k))));
    msgs.push_back(
      caf::make_message(raft::append_atom::value, kv::get_cmd(key)));
    msgs.push_back(caf::make_message(raft::append_atom::value,
                                     kv::get_cmd("missing" + key)));
  }
  auto out = send_all(*b.sys, *client, msgs);
  raft::index_t last = 0;
  for (int k = 0; k < 60; ++k) {
    auto& put = out[3 * k];
    auto& get = out[3 * k + 1];
    auto& missing = out[3 * k + 2];
    BOOST_REQUIRE(put.done && get.done && missing.done);
    BOOST_TEST(!put.error, b.sys->render(put.error));
    BOOST_TEST(put.reply.apply_error == "");
    BOOST_TEST(get.reply.result == "v" + std::to_string(k));
    BOOST_TEST(missing.reply.apply_error == kv::not_found);
    BOOST_TEST(!missing.error);
    // In the order sent: one index each, increasing.
    BOOST_TEST(put.reply.index > last);
    BOOST_TEST(get.reply.index == put.reply.index + 1);
    BOOST_TEST(missing.reply.index == put.reply.index + 2);
    last = missing.reply.index;
  }
  // Queries batch the same way.
  std::vector<caf::message> queries;
  for (int k = 0; k < 60; ++k)
    queries.push_back(caf::make_message(raft::query_atom::value,
                                        kv::get_cmd("k" + std::to_string(k))));
  auto answers = send_all(*b.sys, *client, queries);
  for (int k = 0; k < 60; ++k) {
    BOOST_TEST(!answers[k].error);
    BOOST_TEST(answers[k].reply.result == "v" + std::to_string(k));
  }
  caf::scoped_actor other{*b.sys};
  other->send_exit(*client, caf::exit_reason::user_shutdown);
  self->request(m->member, seconds(5), raft::stop_atom::value)
    .receive([](caf::ok_atom) {}, [](caf::error&) {});
}
