// The wire's engine (wire_engine.hpp, docs/wire.md): the TLS context of one
// identity, its listener (wire_listener.cpp) and its dialed connections
// (wire_dial.cpp), all on the process's io thread (wire_io.hpp), swept for
// deadlines every 50 ms.

#include "wire_io.hpp"

#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "raft/errc.hpp"

namespace raft::wire {

namespace detail {

namespace {

class engine_impl final : public engine,
                          public std::enable_shared_from_this<engine_impl> {
public:
  engine_impl(std::string identity, limits lim,
              std::unique_ptr<ssl::context> tls)
    : identity_(std::move(identity)), lim_(lim), tls_(std::move(tls)) {
    // nop
  }

  ~engine_impl() override = default;

  void start_sweeping() {
    auto timer = std::make_shared<asio::steady_timer>(runtime().io);
    std::weak_ptr<engine_impl> weak = shared_from_this();
    post([timer, weak] { tick(timer, weak); });
  }

  static void tick(std::shared_ptr<asio::steady_timer> timer,
                   std::weak_ptr<engine_impl> weak) {
    auto self = weak.lock();
    if (!self || self->stopped_)
      return;
    auto now = steady_clock::now();
    if (self->listener_)
      self->listener_->sweep(now);
    auto& dials = self->dials_;
    for (size_t i = 0; i < dials.size();) {
      auto d = dials[i].lock();
      if (!d || d->finished()) {
        dials[i] = dials.back();
        dials.pop_back();
        continue;
      }
      d->sweep(now);
      ++i;
    }
    self.reset();
    timer->expires_after(std::chrono::milliseconds(50));
    timer->async_wait([timer, weak](const error_code& ec) {
      if (!ec)
        tick(timer, weak);
    });
  }

  caf::expected<uint16_t> listen(const std::string& host, uint16_t port,
                                 listener_policy policy) override {
    caf::expected<uint16_t> result{uint16_t{0}};
    run_on_io([&] {
      auto l = make_listener(shared_from_this(), std::move(policy), lim_,
                             tls_.get());
      result = l->open(host, port);
      if (result)
        listener_ = std::move(l);
    });
    return result;
  }

  void reply(uint64_t session, std::string frame) override {
    auto self = shared_from_this();
    post([self, session, f = std::move(frame)]() mutable {
      if (self->listener_)
        self->listener_->reply(session, std::move(f));
    });
  }

  dial_handle_ptr dial(const member_id& target, peer_kind kind,
                       caf::actor owner, uint64_t tag) override {
    auto d = make_dialed(shared_from_this(), lim_, identity_, target, kind,
                         std::move(owner), tag);
    auto self = shared_from_this();
    post([self, d] {
      self->dials_.push_back(d);
      d->start(self->tls_.get());
    });
    return d;
  }

  void shutdown() override {
    auto self = shared_from_this();
    run_on_io([self] {
      self->stopped_ = true;
      if (self->listener_) {
        self->listener_->close();
        self->listener_ = nullptr;
      }
      for (auto& w : self->dials_)
        if (auto d = w.lock())
          d->shut_now();
      self->dials_.clear();
    });
  }

  const limits& get_limits() const override {
    return lim_;
  }

  void allow_member(const member_id& id) override {
    auto self = shared_from_this();
    post([self, id] {
      if (self->listener_)
        self->listener_->allow_member(id);
    });
  }

private:
  std::string identity_;
  limits lim_;
  std::unique_ptr<ssl::context> tls_;
  std::shared_ptr<listener_base> listener_;
  std::vector<std::weak_ptr<dialed>> dials_;
  bool stopped_ = false;
};
} // namespace

} // namespace detail

namespace ssl = boost::asio::ssl;
using boost::system::error_code;

dial_handle::~dial_handle() = default;

engine::~engine() = default;

caf::expected<engine_ptr> engine::make(std::string identity,
                                       const tls_options& tls, limits lim) {
  std::unique_ptr<ssl::context> ctx;
  if (tls.enabled()) {
    if (auto err = validate(tls))
      return err;
    ctx = std::make_unique<ssl::context>(ssl::context::tls);
    error_code ec;
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                       | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                       | ssl::context::no_tlsv1_1,
                     ec);
    if (!ec)
      ctx->use_certificate_chain_file(tls.certificate, ec);
    if (!ec)
      ctx->use_private_key_file(tls.key, ssl::context::pem, ec);
    if (!ec)
      ctx->load_verify_file(tls.ca_file, ec);
    if (!ec)
      ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert,
                           ec);
    if (ec)
      return make_error(errc::invalid_config,
                        "cannot load the TLS files: " + ec.message());
  }
  auto eng = std::make_shared<detail::engine_impl>(std::move(identity), lim,
                                           std::move(ctx));
  eng->start_sweeping();
  return engine_ptr{eng};
}

} // namespace raft::wire
