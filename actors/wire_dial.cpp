// A dialed connection (docs/wire.md, "Sessions"): resolve, connect, TLS
// (checking that the member's certificate names the id dialed), hello, and
// the welcome; then replies go to the owning actor as CAF messages. It pings
// on a schedule and gives up on a connection silent for too long; the owner
// hears wire_up_atom once and wire_down_atom at most once.

#include "wire_io.hpp"

#include <boost/asio/connect.hpp>

#include "caf/send.hpp"

#include "raft/errc.hpp"

#include "remote_auth.hpp"
#include "remote_protocol.hpp"

namespace raft::wire::detail {

namespace {

// -- dialed connections ----------------------------------------------------------------------

class dial_conn final : public connection, public dialed {
public:
  dial_conn(std::shared_ptr<engine> eng, const limits& lim,
            std::string self_identity, member_id target, peer_kind kind,
            caf::actor owner, uint64_t tag)
    : connection(tcp::socket{runtime().io}, lim),
      eng_(std::move(eng)),
      self_identity_(std::move(self_identity)),
      target_(std::move(target)),
      kind_(kind),
      owner_(std::move(owner)),
      tag_(tag),
      resolver_(runtime().io) {
    // nop
  }

  void send(std::string frame) override {
    auto self = std::static_pointer_cast<dial_conn>(shared_from_this());
    post([self, f = std::move(frame)]() mutable {
      if (self->established_)
        self->write(std::move(f));
    });
  }

  void close() override {
    auto self = std::static_pointer_cast<dial_conn>(shared_from_this());
    post([self] {
      self->owner_ = nullptr;
      self->shut();
    });
  }

  void start(ssl::context* tls) override;

  bool finished() const override {
    return closed();
  }

  void shut_now() override {
    shut();
  }

  void sweep(steady_clock::time_point now) override {
    if (closed_)
      return;
    if (!established_) {
      if (now - opened_ > lim_.connect_timeout)
        failed("no session within " + ms(lim_.connect_timeout), false);
      return;
    }
    if (now - last_rx_ > lim_.silence_timeout) {
      failed("nothing received for " + ms(lim_.silence_timeout), false);
      return;
    }
    // Ping on a schedule, whatever else is sent: the other side answers
    // only pings on this connection (its own messages travel on the
    // connection it dialed), so pongs are what proves it alive.
    if (now - last_ping_ >= lim_.ping_interval) {
      last_ping_ = now;
      std::string frame;
      encode_ping(frame);
      write(std::move(frame));
    }
  }

protected:
  bool on_frame(frame_type type, std::string_view payload) override;

  void failed(const std::string& why_in, bool refused) override {
    if (closed_)
      return;
    auto why = why_in;
    if (!established_ && !s_.tls()
        && (refused || why == "connection closed by the peer")) {
      why += " (a TLS member? then give the TLS options)";
      refused = true;
    }
    shut();
    if (owner_) {
      caf::anon_send(owner_, wire_down_atom::value, tag_, why, refused);
      owner_ = nullptr;
    }
  }

private:
  void connected(ssl::context* tls);
  void send_hello();

  std::shared_ptr<engine> eng_;
  std::string self_identity_;
  member_id target_;
  peer_kind kind_;
  caf::actor owner_;
  uint64_t tag_;
  tcp::resolver resolver_;
  bool established_ = false;
  steady_clock::time_point last_ping_;
};

bool dial_conn::on_frame(frame_type type, std::string_view payload) {
  if (!established_) {
    if (type == frame_type::refuse) {
      wire::refuse r;
      if (!decode(payload, r))
        failed(target_ + " refused the session (malformed refusal)", true);
      else if (r.code == refuse_code::access_denied)
        failed("access_denied: " + r.text, true);
      else
        failed(target_ + " refused the session: " + r.text, true);
      return false;
    }
    welcome w;
    if (type != frame_type::welcome || !decode(payload, w)) {
      failed(target_ + " sent no valid welcome", true);
      return false;
    }
    if (w.identity != target_) {
      failed(target_ + " answered as '" + w.identity + "'", true);
      return false;
    }
    established_ = true;
    dec_.set_max_payload(lim_.max_payload);
    if (owner_)
      caf::anon_send(owner_, wire_up_atom::value, tag_);
    return true;
  }
  switch (type) {
    case frame_type::pong:
      return true;
    case frame_type::ping: {
      std::string frame;
      encode_pong(frame);
      write(std::move(frame));
      return true;
    }
    case frame_type::client_reply: {
      client_reply r;
      if (!decode(payload, r)) {
        failed("malformed client reply from " + target_, true);
        return false;
      }
      remote::outcome_vector out;
      out.reserve(r.outcomes.size());
      for (auto& o : r.outcomes)
        out.push_back(remote::append_outcome{std::move(o.reply),
                                             std::move(o.error)});
      if (owner_)
        caf::anon_send(owner_, wire_reply_atom::value, r.id, std::move(out));
      return true;
    }
    case frame_type::status_reply: {
      status_reply r;
      if (!decode(payload, r)) {
        failed("malformed status reply from " + target_, true);
        return false;
      }
      if (!owner_)
        return true;
      if (r.error)
        caf::anon_send(owner_, wire_reply_atom::value, r.id,
                       std::move(r.error));
      else
        caf::anon_send(owner_, wire_reply_atom::value, r.id,
                       std::move(r.status));
      return true;
    }
    case frame_type::membership_reply: {
      membership_reply r;
      if (!decode(payload, r)) {
        failed("malformed membership reply from " + target_, true);
        return false;
      }
      if (!owner_)
        return true;
      if (r.error)
        caf::anon_send(owner_, wire_reply_atom::value, r.id,
                       std::move(r.error));
      else
        caf::anon_send(owner_, wire_reply_atom::value, r.id,
                       std::move(r.configuration));
      return true;
    }
    case frame_type::refuse: {
      wire::refuse r;
      auto text = decode(payload, r) ? r.text : std::string{"?"};
      failed(target_ + " closed the session: " + text,
             r.code == refuse_code::access_denied);
      return false;
    }
    default:
      failed(std::string{"unexpected "} + to_string(type) + " frame from "
               + target_,
             false);
      return false;
  }
}

void dial_conn::start(ssl::context* tls) {
  auto hp = split_host_port(target_);
  if (!hp) {
    failed("'" + target_ + "' is not HOST:PORT", true);
    return;
  }
  auto self = std::static_pointer_cast<dial_conn>(shared_from_this());
  resolver_.async_resolve(
    hp->first, std::to_string(hp->second),
    [self, tls](const error_code& ec, tcp::resolver::results_type results) {
      if (self->closed_)
        return;
      if (ec) {
        self->failed("cannot resolve " + self->target_ + ": " + ec.message(),
                     false);
        return;
      }
      asio::async_connect(self->s_.socket(), results,
                          [self, tls](const error_code& ec,
                                      const tcp::endpoint&) {
                            if (self->closed_)
                              return;
                            if (ec) {
                              self->failed(self->target_ + ": "
                                             + ec.message(),
                                           false);
                              return;
                            }
                            self->connected(tls);
                          });
    });
}

void dial_conn::connected(ssl::context* tls) {
  error_code ec;
  s_.socket().set_option(tcp::no_delay(true), ec);
  if (!tls) {
    send_hello();
    read();
    return;
  }
  s_.start_tls(*tls);
  auto self = std::static_pointer_cast<dial_conn>(shared_from_this());
  s_.tls()->async_handshake(
    ssl::stream_base::client, [self](const error_code& ec) {
      if (self->closed_)
        return;
      if (ec) {
        auto verify = SSL_get_verify_result(self->s_.tls()->native_handle());
        if (verify != X509_V_OK)
          self->failed("the CA did not issue " + self->target_
                         + "'s certificate ("
                         + X509_verify_cert_error_string(verify) + ")",
                       true);
        else
          self->failed("TLS handshake with " + self->target_
                         + " failed: " + tls_reason(ec),
                       true);
        return;
      }
      // The member we dialed must be the one its certificate names.
      auto cert = peer_certificate(self->s_);
      if (!remote::certificate_names(cert.get(), self->target_)) {
        self->failed("the certificate of " + self->target_
                       + " does not name it",
                     true);
        return;
      }
      self->send_hello();
      self->read();
    });
}

void dial_conn::send_hello() {
  std::string frame;
  encode(frame, hello{self_identity_, kind_, target_, lim_.max_payload});
  // Before established_: written directly.
  write(std::move(frame));
}

} // namespace

std::shared_ptr<dialed> make_dialed(std::shared_ptr<engine> eng,
                                    const limits& lim,
                                    std::string self_identity,
                                    member_id target, peer_kind kind,
                                    caf::actor owner, uint64_t tag) {
  return std::make_shared<dial_conn>(std::move(eng), lim,
                                     std::move(self_identity),
                                     std::move(target), kind,
                                     std::move(owner), tag);
}

} // namespace raft::wire::detail
