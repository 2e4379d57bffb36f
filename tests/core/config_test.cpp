// validate(config): every refused configuration yields errc::invalid_config
// with a context that says what is wrong; the derived defaults follow the
// timing rule of §5.6 (broadcastTime << electionTimeout). Also the errc
// helpers the member relies on.
#define BOOST_TEST_MODULE core_config_test
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <functional>
#include <string>

#include "caf/message.hpp"
#include "caf/sec.hpp"

#include "raft/config.hpp"
#include "raft/errc.hpp"

using namespace raft;
using namespace std::chrono_literals;

namespace {

config valid_config() {
  config cfg;
  cfg.host_port = "127.0.0.1:4000";
  return cfg;
}

/// The context string of an invalid_config error, or a description of what
/// else came back.
std::string invalid_config_context(const caf::error& err) {
  if (!err)
    return "<no error>";
  if (err.category() != errc_category
      || err.code() != static_cast<uint8_t>(errc::invalid_config))
    return "<another error>";
  auto& ctx = err.context();
  if (!ctx.match_elements<std::string>())
    return "<no string context>";
  return ctx.get_as<std::string>(0);
}

/// Applies `change` to a valid config and expects validate() to refuse it
/// with a context mentioning `keyword`.
void expect_refused(std::function<void(config&)> change,
                    const std::string& keyword) {
  auto cfg = valid_config();
  change(cfg);
  auto why = invalid_config_context(validate(cfg));
  BOOST_TEST_CONTEXT("expected a context mentioning '" << keyword << "'") {
    BOOST_TEST(why.find(keyword) != std::string::npos, "got: " << why);
  }
}

} // namespace

// §5.6: "broadcastTime << electionTimeout << MTBF"; left at zero, the
// election timeouts derive from the heartbeat (min = 10 heartbeats,
// max = 2 min) and the append timeout from them (4 * max).
BOOST_AUTO_TEST_CASE(derived_defaults_are_filled_in) {
  auto cfg = valid_config();
  BOOST_TEST(!validate(cfg));
  BOOST_TEST(cfg.election_timeout_min.count() == caf::timespan{500ms}.count());
  BOOST_TEST(cfg.election_timeout_max.count() == caf::timespan{1000ms}.count());
  BOOST_TEST(cfg.append_timeout.count() == caf::timespan{4000ms}.count());
  // validate() is idempotent: a second call keeps the derived values.
  BOOST_TEST(!validate(cfg));
  BOOST_TEST(cfg.election_timeout_min.count() == caf::timespan{500ms}.count());
}

BOOST_AUTO_TEST_CASE(explicit_values_are_kept) {
  auto cfg = valid_config();
  cfg.heartbeat = 20ms;
  cfg.election_timeout_min = 150ms;
  cfg.election_timeout_max = 300ms;
  cfg.append_timeout = 2s;
  BOOST_TEST(!validate(cfg));
  BOOST_TEST(cfg.election_timeout_min.count() == caf::timespan{150ms}.count());
  BOOST_TEST(cfg.election_timeout_max.count() == caf::timespan{300ms}.count());
  BOOST_TEST(cfg.append_timeout.count() == caf::timespan{2s}.count());
  // Only the minimum given: the maximum is twice it.
  auto only_min = valid_config();
  only_min.election_timeout_min = 200ms;
  BOOST_TEST(!validate(only_min));
  BOOST_TEST(only_min.election_timeout_max.count()
             == caf::timespan{400ms}.count());
  // min == max is a valid (if unwise) fixed timeout.
  auto fixed = valid_config();
  fixed.election_timeout_min = fixed.election_timeout_max = 300ms;
  BOOST_TEST(!validate(fixed));
}

// A member needs an id: its host:port.
BOOST_AUTO_TEST_CASE(an_empty_host_port_is_refused) {
  expect_refused([](config& c) { c.host_port.clear(); }, "host_port");
}

// §5.2: heartbeats are periodic; a zero or negative period is meaningless.
BOOST_AUTO_TEST_CASE(a_heartbeat_that_is_not_positive_is_refused) {
  expect_refused([](config& c) { c.heartbeat = caf::timespan{0}; },
                 "heartbeat");
  expect_refused([](config& c) { c.heartbeat = -5ms; }, "heartbeat");
}

// §5.6: the election timeout must exceed the heartbeat period, or followers
// start elections while the leader is healthy.
BOOST_AUTO_TEST_CASE(an_election_timeout_not_above_the_heartbeat_is_refused) {
  expect_refused(
    [](config& c) {
      c.heartbeat = 50ms;
      c.election_timeout_min = 50ms;
    },
    "election_timeout_min");
  expect_refused(
    [](config& c) {
      c.heartbeat = 50ms;
      c.election_timeout_min = 10ms;
    },
    "election_timeout_min");
  expect_refused([](config& c) { c.election_timeout_min = -1ms; },
                 "election_timeout_min");
}

// §5.2: timeouts are "chosen randomly from a fixed interval"; max < min is
// no interval.
BOOST_AUTO_TEST_CASE(an_election_timeout_max_below_min_is_refused) {
  expect_refused(
    [](config& c) {
      c.election_timeout_min = 300ms;
      c.election_timeout_max = 200ms;
    },
    "election_timeout_max");
}

BOOST_AUTO_TEST_CASE(negative_timeouts_and_thresholds_are_refused) {
  expect_refused([](config& c) { c.append_timeout = -1ms; }, "append_timeout");
  expect_refused([](config& c) { c.snapshot_threshold = -1; },
                 "snapshot_threshold");
  // Zero means "never snapshot": valid.
  auto cfg = valid_config();
  cfg.snapshot_threshold = 0;
  BOOST_TEST(!validate(cfg));
}

// Replication limits of zero would stall replication for good.
BOOST_AUTO_TEST_CASE(zero_replication_limits_are_refused) {
  expect_refused([](config& c) { c.max_entries_per_message = 0; },
                 "max_entries_per_message");
  expect_refused([](config& c) { c.max_bytes_per_message = 0; },
                 "max_bytes_per_message");
  expect_refused([](config& c) { c.max_in_flight = 0; }, "max_in_flight");
  expect_refused([](config& c) { c.max_apply_batch = 0; }, "max_apply_batch");
}

// errc: one code per failure, rendered by name, in the "raft" category;
// timeouts and lost leadership leave the outcome of an append unknown.
BOOST_AUTO_TEST_CASE(errc_codes_have_names_and_outcome_classes) {
  for (uint8_t x = 0; x <= static_cast<uint8_t>(errc::unreachable); ++x) {
    auto code = static_cast<errc>(x);
    BOOST_TEST(to_string(code) != "unknown");
    if (code == errc::none)
      continue;
    auto err = make_error(code);
    BOOST_TEST(err.code() == x);
    BOOST_TEST(err.category() == errc_category);
    bool unknown = code == errc::leadership_lost || code == errc::no_quorum
                   || code == errc::timeout;
    BOOST_TEST(outcome_unknown(err) == unknown, to_string(code));
  }
  BOOST_TEST(to_string(errc::no_leader) == "no_leader");
  BOOST_TEST(to_string(errc::not_leader) == "not_leader");
  BOOST_TEST(outcome_unknown(caf::make_error(caf::sec::request_timeout)));
  BOOST_TEST(!outcome_unknown(caf::make_error(caf::sec::unexpected_message)));
  auto with_hint = make_error(errc::no_leader, "127.0.0.1:4001");
  BOOST_TEST(with_hint.context().get_as<std::string>(0) == "127.0.0.1:4001");
}
