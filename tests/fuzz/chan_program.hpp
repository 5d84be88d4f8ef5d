// The channel fuzzer's core: decodes a byte string into a small concurrent program (a few
// channels of capacity 0-3, one to four fibers, each running up to 16 operations: send, recv,
// try_send, try_recv, close, cancel, select and select_list with nil, timer, context and default
// cases) and checks what it does against Go's rules:
//  - one fiber: a sequential model of every channel predicts each operation's outcome exactly
//    (which select cases are ready, the value received, closed, empty, send on closed);
//    operations the model says would block forever are skipped;
//  - several fibers: every value is received at most once and only if its send succeeded;
//    after the end every successfully sent value was received or is still buffered; each
//    receiver sees each sender's values on a channel in send order; a receive of "closed" or a
//    failed send only after the channel's close began; exactly one close per channel succeeds;
//    exactly the handler of the chosen select case runs.
// The program always ends: after the fibers finish (or after a short deadline, for those
// legitimately blocked) every channel is closed and every context cancelled, which releases all.
// A violation prints what was wrong and aborts (libFuzzer reports it as a crash with the input).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "goro/goro.hpp"

namespace goro::fuzz {

/// Names the program being run in a violation report (the driver's seed and program number).
inline std::string& where() {
  static std::string w;
  return w;
}

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "chan fuzz: violation in %s: %s\n", where().c_str(), what.c_str());
  std::fflush(stderr);
  std::abort();
}
#define FUZZ_CHECK(cond, msg)                                         \
  do {                                                                \
    if (!(cond)) ::goro::fuzz::fail(std::string(#cond ": ") + (msg)); \
  } while (0)

class reader {
 public:
  reader(const std::uint8_t* d, std::size_t n) : d_(d), n_(n) {}
  unsigned next(unsigned bound) {  // in [0, bound)
    if (bound <= 1) return 0;
    unsigned v = i_ < n_ ? d_[i_] : 0;
    ++i_;
    return v % bound;
  }
  bool done() const { return i_ >= n_; }

 private:
  const std::uint8_t* d_;
  std::size_t n_, i_ = 0;
};

enum class op_kind : std::uint8_t { send, recv, try_send, try_recv, close, cancel, select, list };

struct case_spec {
  enum class kind : std::uint8_t { recv, send, nil_recv, timer, ctx_done };
  kind k = kind::recv;
  unsigned ch = 0;  // recv/send: channel; ctx_done: context
  unsigned us = 0;  // timer: microseconds
};

struct op {
  op_kind k = op_kind::send;
  unsigned ch = 0;  // send/recv/try_*/close: channel; cancel: context
  std::vector<case_spec> cases;
  bool with_default = false;
};

struct program {
  unsigned workers = 1;
  std::vector<std::size_t> caps;
  unsigned contexts = 1;
  std::vector<std::vector<op>> fibers;
};

inline program decode(const std::uint8_t* data, std::size_t size) {
  reader r(data, size);
  program p;
  p.workers = 1 + r.next(2);
  const unsigned nch = 1 + r.next(3);
  for (unsigned i = 0; i < nch; ++i) p.caps.push_back(r.next(4));
  p.contexts = 1 + r.next(2);
  const unsigned nf = 1 + r.next(4);
  p.fibers.resize(nf);
  for (auto& ops : p.fibers) {
    const unsigned n = r.next(17);
    for (unsigned i = 0; i < n && !r.done(); ++i) {
      op o;
      o.k = static_cast<op_kind>(r.next(8));
      o.ch = r.next(o.k == op_kind::cancel ? p.contexts : nch);
      if (o.k == op_kind::select || o.k == op_kind::list) {
        const unsigned ncases = o.k == op_kind::select ? 2 : 1 + r.next(4);
        for (unsigned c = 0; c < ncases; ++c) {
          case_spec cs;
          cs.k = static_cast<case_spec::kind>(r.next(5));
          cs.ch = r.next(cs.k == case_spec::kind::ctx_done ? p.contexts : nch);
          cs.us = r.next(3) * 50;
          o.cases.push_back(cs);
        }
        o.with_default = r.next(2) == 1;
      }
      ops.push_back(std::move(o));
    }
  }
  return p;
}

/// The decoded program, readable (for reproducing a report).
inline std::string describe(const std::uint8_t* data, std::size_t size) {
  const program p = decode(data, size);
  static const char* const ops[] = {"send",  "recv",   "try_send", "try_recv",
                                    "close", "cancel", "select",   "select_list"};
  static const char* const kinds[] = {"recv", "send", "nil", "timer", "ctx_done"};
  std::string out = std::to_string(p.workers) + " worker(s), " + std::to_string(p.contexts) +
                    " context(s), channels of capacity";
  for (std::size_t c : p.caps) out += " " + std::to_string(c);
  out += "\n";
  for (std::size_t f = 0; f < p.fibers.size(); ++f) {
    out += "fiber " + std::to_string(f) + ":";
    for (const op& o : p.fibers[f]) {
      out += std::string(" ") + ops[static_cast<int>(o.k)] + "(" + std::to_string(o.ch);
      for (const case_spec& cs : o.cases)
        out += std::string(" ") + kinds[static_cast<int>(cs.k)] + ":" + std::to_string(cs.ch) +
               (cs.k == case_spec::kind::timer ? "/" + std::to_string(cs.us) + "us" : "");
      if (o.with_default) out += " default";
      out += ")";
    }
    out += "\n";
  }
  return out;
}

// Values carry who sent them: sender fiber, channel, sequence number of that sender.
inline std::uint64_t make_value(unsigned fiber, unsigned ch, std::uint32_t seq) {
  return (std::uint64_t{fiber} << 40) | (std::uint64_t{ch} << 32) | seq;
}
inline unsigned sender_of(std::uint64_t v) { return static_cast<unsigned>(v >> 40); }
inline unsigned chan_of(std::uint64_t v) { return static_cast<unsigned>((v >> 32) & 0xff); }
inline std::uint32_t seq_of(std::uint64_t v) { return static_cast<std::uint32_t>(v); }

// The sequential model of one channel (one-fiber programs).
struct model_chan {
  std::size_t cap = 0;
  std::deque<std::uint64_t> buf;
  bool closed = false;
  bool send_ready() const { return closed || buf.size() < cap; }  // closed: ready, and throws
  bool recv_ready() const { return closed || !buf.empty(); }
};

struct shared_state {
  std::vector<goro::chan<std::uint64_t>> chans;
  std::vector<goro::context> ctxs;
  std::vector<goro::cancel_func> cancels;
  std::vector<std::atomic<bool>> closing;  // set before close() is called
  std::vector<std::atomic<int>> closes_ok;
  explicit shared_state(std::size_t n) : closing(n), closes_ok(n) {}
};

// What one fiber observed; read by the checker after every fiber has finished.
struct fiber_log {
  std::vector<std::uint64_t> sent;      // sends that completed
  std::vector<std::uint64_t> received;  // in the order received
};

class runner {
 public:
  runner(const program& p, shared_state& s, unsigned self, fiber_log& log, bool model)
      : p_(p), s_(s), self_(self), log_(log), model_(model) {
    if (model) {
      for (std::size_t c : p.caps) m_.push_back(model_chan{c, {}, false});
      cancelled_.assign(p.contexts, false);
    }
  }

  void run() {
    for (const op& o : p_.fibers[self_]) step(o);
  }

 private:
  goro::chan<std::uint64_t>& ch(unsigned i) { return s_.chans[i]; }
  std::uint64_t next_value(unsigned c) { return make_value(self_, c, seq_++); }

  void got(unsigned c, const std::optional<std::uint64_t>& v, const char* how) {
    if (v) {
      FUZZ_CHECK(chan_of(*v) == c, std::string(how) + ": value from another channel");
      log_.received.push_back(*v);
      if (model_) {
        FUZZ_CHECK(!m_[c].buf.empty() && m_[c].buf.front() == *v,
                   std::string(how) + ": not the model's next value");
        m_[c].buf.pop_front();
      }
    } else {
      FUZZ_CHECK(s_.closing[c].load(), std::string(how) + ": closed before any close began");
      if (model_)
        FUZZ_CHECK(m_[c].closed && m_[c].buf.empty(), std::string(how) + ": closed early");
    }
  }
  void sent(unsigned c, std::uint64_t v) {
    log_.sent.push_back(v);
    if (model_) {
      FUZZ_CHECK(!m_[c].closed && m_[c].buf.size() < m_[c].cap,
                 "send completed in the model's "
                 "closed or full channel");
      m_[c].buf.push_back(v);
    }
  }
  void send_failed(unsigned c) {
    FUZZ_CHECK(s_.closing[c].load(), "send failed before any close began");
    if (model_) FUZZ_CHECK(m_[c].closed, "send failed on the model's open channel");
  }

  bool case_ready(const case_spec& cs) const {  // model only
    switch (cs.k) {
      case case_spec::kind::recv:
        return m_[cs.ch].recv_ready();
      case case_spec::kind::send:
        return m_[cs.ch].send_ready();
      case case_spec::kind::ctx_done:
        return cancelled_[cs.ch];
      default:
        return false;  // nil; timers are replaced by nil in the model
    }
  }

  void step(const op& o) {
    switch (o.k) {
      case op_kind::send: {
        if (model_ && !m_[o.ch].send_ready()) return;  // would block forever
        const std::uint64_t v = next_value(o.ch);
        try {
          ch(o.ch).send(v);
          sent(o.ch, v);
        } catch (const goro::channel_closed&) {
          send_failed(o.ch);
        }
        return;
      }
      case op_kind::recv: {
        if (model_ && !m_[o.ch].recv_ready()) return;
        got(o.ch, ch(o.ch).recv(), "recv");
        return;
      }
      case op_kind::try_send: {
        const std::uint64_t v = next_value(o.ch);
        try {
          const bool ok = ch(o.ch).try_send(v);
          if (model_) FUZZ_CHECK(ok == m_[o.ch].send_ready(), "try_send disagrees with the model");
          if (ok) sent(o.ch, v);
        } catch (const goro::channel_closed&) {
          send_failed(o.ch);
        }
        return;
      }
      case op_kind::try_recv: {
        auto r = ch(o.ch).try_recv();
        if (r.has_value()) {
          got(o.ch, *r, "try_recv");
        } else if (r.closed()) {
          got(o.ch, std::nullopt, "try_recv");
        } else if (model_) {
          FUZZ_CHECK(!m_[o.ch].recv_ready(), "try_recv empty, the model has a value or closed");
        }
        return;
      }
      case op_kind::close: {
        s_.closing[o.ch] = true;
        try {
          ch(o.ch).close();
          s_.closes_ok[o.ch].fetch_add(1);
          if (model_) {
            FUZZ_CHECK(!m_[o.ch].closed, "close succeeded twice");
            m_[o.ch].closed = true;
          }
        } catch (const goro::channel_closed&) {
          if (model_) FUZZ_CHECK(m_[o.ch].closed, "close of an open channel threw");
        }
        return;
      }
      case op_kind::cancel: {
        s_.cancels[o.ch]();
        if (model_) cancelled_[o.ch] = true;
        return;
      }
      case op_kind::select:
      case op_kind::list:
        run_select(o);
        return;
    }
  }

  void run_select(const op& o) {
    std::vector<case_spec> cases = o.cases;
    if (o.k == op_kind::select)  // the static form has channel cases only: the rest become nil
      for (auto& cs : cases)
        if (cs.k != case_spec::kind::recv && cs.k != case_spec::kind::send)
          cs.k = case_spec::kind::nil_recv;
    bool can_complete = o.with_default;  // a select of nil cases only blocks forever
    for (auto& cs : cases) can_complete |= cs.k != case_spec::kind::nil_recv;
    if (!can_complete) return;
    bool any_ready = false;
    if (model_) {
      for (auto& cs : cases)
        if (cs.k == case_spec::kind::timer) cs.k = case_spec::kind::nil_recv;  // time-dependent
      for (auto& cs : cases) any_ready |= case_ready(cs);
      if (!any_ready && !o.with_default) return;  // would block forever
    }
    std::vector<std::uint64_t> values(cases.size());
    for (std::size_t i = 0; i < cases.size(); ++i)
      if (cases[i].k == case_spec::kind::send) values[i] = next_value(cases[i].ch);
    int ran = -1, runs = 0;  // which handler ran
    std::optional<std::uint64_t> received;
    std::size_t chosen;
    try {
      chosen = o.k == op_kind::select
                   ? run_static(cases, values, o.with_default, ran, runs, received)
                   : run_list(cases, values, o.with_default, ran, runs, received);
    } catch (const goro::channel_closed&) {
      // A chosen send case on a closed channel. Which one is not reported: one of them.
      bool some = false;
      for (auto& cs : cases)
        if (cs.k == case_spec::kind::send && s_.closing[cs.ch].load()) some = true;
      FUZZ_CHECK(some, "select threw channel_closed without a send case on a closing channel");
      FUZZ_CHECK(runs == 0, "a handler ran, then the select threw");
      if (model_) {
        bool model_some = false;
        for (auto& cs : cases)
          if (cs.k == case_spec::kind::send && m_[cs.ch].closed) model_some = true;
        FUZZ_CHECK(model_some, "select threw, the model has no closed send case");
      }
      return;
    }
    const bool is_default = o.with_default && chosen == cases.size();
    FUZZ_CHECK(runs == 1 && ran == static_cast<int>(chosen), "not exactly the chosen handler ran");
    if (is_default) {
      if (model_) FUZZ_CHECK(!any_ready, "default chosen while the model has a ready case");
      return;
    }
    const case_spec& cs = cases[chosen];
    FUZZ_CHECK(cs.k != case_spec::kind::nil_recv, "a nil channel's case was chosen");
    if (model_) FUZZ_CHECK(case_ready(cs), "select chose a case the model says is not ready");
    switch (cs.k) {
      case case_spec::kind::recv:
        got(cs.ch, received, "select recv");
        break;
      case case_spec::kind::send:
        sent(cs.ch, values[chosen]);
        break;
      case case_spec::kind::ctx_done:
        FUZZ_CHECK(s_.ctxs[cs.ch].err(), "ctx.done() ready before cancel");
        break;
      default:
        break;
    }
  }

  // goro::select with two cases (and maybe a default): every combination of case kinds.
  std::size_t run_static(const std::vector<case_spec>& cases, std::vector<std::uint64_t>& values,
                         bool with_default, int& ran, int& runs,
                         std::optional<std::uint64_t>& received) {
    auto a = make_case(cases[0], values[0], 0, ran, runs, received);
    return std::visit(
        [&](auto&& ca) {
          auto b = make_case(cases[1], values[1], 1, ran, runs, received);
          return std::visit(
              [&](auto&& cb) -> std::size_t {
                if (with_default)
                  return goro::select(std::move(ca), std::move(cb), goro::case_default([&] {
                                        ran = 2;
                                        ++runs;
                                      }));
                return goro::select(std::move(ca), std::move(cb));
              },
              std::move(b));
        },
        std::move(a));
  }

  struct recv_handler {
    int index;
    int* ran;
    int* runs;
    std::optional<std::uint64_t>* out;
    void operator()(std::optional<std::uint64_t> v) const {
      *ran = index;
      ++*runs;
      *out = v;
    }
  };
  struct plain_handler {
    int index;
    int* ran;
    int* runs;
    void operator()() const {
      *ran = index;
      ++*runs;
    }
  };
  using recv_case_t = decltype(goro::case_recv(std::declval<goro::chan<std::uint64_t>&>(),
                                               std::declval<recv_handler>()));
  using send_case_t = decltype(goro::case_send(std::declval<goro::chan<std::uint64_t>&>(),
                                               std::uint64_t{}, std::declval<plain_handler>()));
  using variant_case = std::variant<recv_case_t, send_case_t>;

  // Timer and context cases become receives on their channels (a timer's value is a time point:
  // a separate channel type, so they go through select_list instead; in the static form they are
  // replaced by a nil receive of the same channel type, which is never ready).
  variant_case make_case(const case_spec& cs, std::uint64_t value, int index, int& ran, int& runs,
                         std::optional<std::uint64_t>& received) {
    switch (cs.k) {
      case case_spec::kind::send:
        return goro::case_send(ch(cs.ch), value, plain_handler{index, &ran, &runs});
      case case_spec::kind::recv:
        return goro::case_recv(ch(cs.ch), recv_handler{index, &ran, &runs, &received});
      default:
        return goro::case_recv(nil_, recv_handler{index, &ran, &runs, &received});
    }
  }

  std::size_t run_list(const std::vector<case_spec>& cases, std::vector<std::uint64_t>& values,
                       bool with_default, int& ran, int& runs,
                       std::optional<std::uint64_t>& received) {
    goro::select_list l;
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const int idx = static_cast<int>(i);
      const case_spec& cs = cases[i];
      switch (cs.k) {
        case case_spec::kind::recv:
          l.recv(ch(cs.ch), recv_handler{idx, &ran, &runs, &received});
          break;
        case case_spec::kind::send:
          l.send(ch(cs.ch), values[i], plain_handler{idx, &ran, &runs});
          break;
        case case_spec::kind::nil_recv:
          l.recv(nil_, recv_handler{idx, &ran, &runs, &received});
          break;
        case case_spec::kind::timer:
          l.recv(goro::after(std::chrono::microseconds(cs.us)), plain_handler{idx, &ran, &runs});
          break;
        case case_spec::kind::ctx_done:
          l.recv(s_.ctxs[cs.ch].done(), plain_handler{idx, &ran, &runs});
          break;
      }
    }
    if (with_default) l.add_default(plain_handler{static_cast<int>(cases.size()), &ran, &runs});
    return l.wait();
  }

  const program& p_;
  shared_state& s_;
  const unsigned self_;
  fiber_log& log_;
  const bool model_;
  std::vector<model_chan> m_;
  std::vector<bool> cancelled_;
  std::uint32_t seq_ = 0;
  goro::chan<std::uint64_t> nil_;
};

// Runs one program and checks it; aborts on a violation.
inline void run_program(const std::uint8_t* data, std::size_t size) {
  const program p = decode(data, size);
  const std::size_t nch = p.caps.size();
  const bool model = p.fibers.size() == 1;
  shared_state s(nch);
  for (std::size_t c : p.caps) s.chans.push_back(goro::make_chan<std::uint64_t>(c));
  for (unsigned i = 0; i < p.contexts; ++i) {
    auto [ctx, cancel] = goro::with_cancel(goro::background());
    s.ctxs.push_back(ctx);
    s.cancels.push_back(cancel);
  }
  std::vector<fiber_log> logs(p.fibers.size());
  std::vector<std::uint64_t> drained;
  {
    goro::runtime rt({.workers = p.workers});
    rt.block_on([&] {
      goro::wait_group wg;
      auto all_done = goro::make_chan<int>(1);
      for (unsigned f = 0; f < p.fibers.size(); ++f)
        wg.go([&, f] {
          runner r(p, s, f, logs[f], model);
          r.run();
        });
      goro::go([&wg, all_done] {
        wg.wait();
        all_done.send(1);
      });
      // Fibers blocked for good (a receive nobody sends to) are released by the closes below.
      const bool all_finished =
          goro::select(goro::case_recv(all_done),
                       goro::case_recv(goro::after(std::chrono::milliseconds(5)))) == 0;
      for (std::size_t c = 0; c < nch; ++c) {
        s.closing[c] = true;
        try {
          s.chans[c].close();
          s.closes_ok[c].fetch_add(1);
        } catch (const goro::channel_closed&) {
        }
      }
      for (auto& cancel : s.cancels) cancel();
      wg.wait();
      // The watcher refers to wg: let it finish with wg before wg goes out of scope.
      if (!all_finished) all_done.recv();
      for (std::size_t c = 0; c < nch; ++c)
        while (auto v = s.chans[c].recv()) drained.push_back(*v);
    });
  }

  // Exactly-once: received + drained == successfully sent, as multisets of unique values.
  std::vector<std::uint64_t> sent, got = drained;
  for (auto& l : logs) {
    sent.insert(sent.end(), l.sent.begin(), l.sent.end());
    got.insert(got.end(), l.received.begin(), l.received.end());
  }
  std::sort(sent.begin(), sent.end());
  std::sort(got.begin(), got.end());
  FUZZ_CHECK(std::adjacent_find(got.begin(), got.end()) == got.end(), "a value delivered twice");
  FUZZ_CHECK(sent == got, "received and buffered values differ from the successful sends (" +
                              std::to_string(sent.size()) + " sent, " + std::to_string(got.size()) +
                              " got)");
  // Per sender and channel, each receiver sees increasing sequence numbers, and whatever was
  // left in the buffer comes after everything received.
  std::map<std::pair<unsigned, unsigned>, std::uint32_t> max_received;
  for (auto& l : logs) {
    std::map<std::pair<unsigned, unsigned>, std::uint32_t> last;
    for (std::uint64_t v : l.received) {
      auto key = std::make_pair(sender_of(v), chan_of(v));
      auto it = last.find(key);
      FUZZ_CHECK(it == last.end() || it->second < seq_of(v), "a sender's values out of order");
      last[key] = seq_of(v);
      auto& m = max_received[key];
      m = std::max(m, seq_of(v) + 1);
    }
  }
  std::map<std::pair<unsigned, unsigned>, std::uint32_t> last_drained;
  for (std::uint64_t v : drained) {
    auto key = std::make_pair(sender_of(v), chan_of(v));
    FUZZ_CHECK(seq_of(v) + 1 > max_received[key], "a buffered value older than one received");
    auto it = last_drained.find(key);
    FUZZ_CHECK(it == last_drained.end() || it->second < seq_of(v), "buffer out of order");
    last_drained[key] = seq_of(v);
  }
  for (std::size_t c = 0; c < nch; ++c)
    FUZZ_CHECK(s.closes_ok[c].load() == 1, "channel " + std::to_string(c) + " closed " +
                                               std::to_string(s.closes_ok[c].load()) + " times");
}

}  // namespace goro::fuzz
