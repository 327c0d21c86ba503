// The DNS half that dial and resolve share: the lookups of one host, one per
// family, with their hooks (dns_start, dns_answer per family as it arrives,
// dns_done when the last has answered). A dial that wants HTTPS records
// adds their chain (service_resolution: AliasMode targets, TargetNames'
// addresses), each answer its own dns_answer, before the one dns_done.
#pragma once

#include <nettrace/error.hpp>
#include <nettrace/resolver.hpp>

#include "operation.hpp"
#include "service_resolution.hpp"
#include "../racer.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/system_error.hpp>

#include <array>
#include <memory>
#include <string>
#include <vector>

namespace nettrace::detail {

template <class Signature>
class lookup_operation : public operation<Signature> {
protected:
    using operation<Signature>::operation;

    static std::size_t index(address_family f) noexcept { return f == address_family::ipv6 ? 0 : 1; }

    void start_lookups(resolver& r, bool ipv6, bool ipv4, clock::time_point now) {
        dns_ = std::make_unique<dns_state>();
        // A resolver may answer from a thread of its own, with nothing of
        // ours queued on ex_ meanwhile: keep its io_context from running dry.
        dns_->work = boost::asio::prefer(this->ex_, boost::asio::execution::outstanding_work.tracked);
        dns_->started = now;
        if (this->trace_) this->fire(this->trace_->dns_start, dns_start_info{host_});
        for (auto f : {address_family::ipv6, address_family::ipv4}) {
            if (f == address_family::ipv6 ? !ipv6 : !ipv4) continue;
            auto& l = dns_->lookups[index(f)];
            l.pending = true;
            auto self = this->shared_from_this();
            const auto deliver = [self, this, f](lookup_result result) {
                this->resumed();
                on_lookup(f, std::move(result));
            };
            try {
                l.handle = r.lookup(this->strand_, host_, f, deliver);
            } catch (const std::exception& e) {
                // A resolver that throws fails its family, like any lookup
                // failure; the answer is posted, as resolvers promise. At
                // the descriptor limit (a c-ares channel's start) that is
                // the error to name.
                lookup_result failed;
                const auto* system = dynamic_cast<const boost::system::system_error*>(&e);
                failed.error = system && system->code() == boost::asio::error::no_descriptors
                                   ? system->code()
                                   : make_error_code(error::dns_failure);
                boost::asio::post(this->strand_, [deliver, failed]() mutable { deliver(std::move(failed)); });
            }
        }
    }

    /// After start_lookups: the HTTPS records too, as `plan` says;
    /// on_services() is called once they are all in.
    void start_service_lookups(resolver& r, service_resolution plan) {
        dns_->services = std::make_unique<service_state>(std::move(plan));
        dns_->services->via = &r;
        pump_services();
    }

    void stop_lookups() {
        if (!dns_) return;
        for (auto& l : dns_->lookups)
            if (l.pending && l.handle) l.handle->cancel();
        if (auto* s = dns_->services.get()) {
            s->plan.abandon();
            for (auto& h : s->handles)
                if (h) h->cancel();
        }
    }

    /// Lets the io_context run dry again: call when completing.
    void release_lookups() noexcept {
        if (dns_) dns_->work = {};
    }

    bool lookups_pending() const {
        return dns_ && (dns_->lookups[0].pending || dns_->lookups[1].pending ||
                        (dns_->services && !dns_->services->finished));
    }
    /// The HTTPS records' plan, when they were asked for.
    const service_resolution* services() const { return dns_ && dns_->services ? &dns_->services->plan : nullptr; }
    /// The lookup that failed with `ec`, if a lookup ran and one did.
    const lookup_result* failed_lookup(const boost::system::error_code& ec) const {
        if (!dns_ || !ec) return nullptr;
        for (const auto& l : dns_->lookups)
            if (l.result.error == ec) return &l.result;
        return nullptr;
    }
    const lookup_result& lookup(address_family f) const { return dns_->lookups[index(f)].result; }

    /// Invoked on the strand with the answer stored in lookup(f).
    virtual void on_answer(address_family f, clock::time_point now) = 0;
    /// Invoked on the strand once the HTTPS chain is over (services()).
    virtual void on_services(clock::time_point) {}

    std::string host_;

private:
    struct family_lookup {
        std::shared_ptr<pending_lookup> handle;
        bool pending = false;
        lookup_result result;
    };

    // What looking up a name takes, made when a lookup starts: a dial of an
    // IP literal needs none of it.
    struct service_state {
        explicit service_state(service_resolution p) : plan(std::move(p)) {}
        service_resolution plan;
        nettrace::resolver* via = nullptr;
        std::vector<std::shared_ptr<pending_lookup>> handles;
        bool finished = false;
    };

    struct dns_state {
        std::array<family_lookup, 2> lookups;
        std::unique_ptr<service_state> services;
        clock::time_point started{};
        boost::asio::any_io_executor work;  // keeps the I/O executor busy while we wait on DNS
    };

    // Sends what the plan asks next; each answer comes back through
    // on_service_answer or on_target_answer, on the strand.
    void pump_services() {
        auto& s = *dns_->services;
        while (auto q = s.plan.next()) {
            auto self = this->shared_from_this();
            try {
                if (q->kind == service_resolution::query::type::https) {
                    s.handles.push_back(s.via->lookup_service(
                        this->strand_, q->name, [self, this, name = q->name](service_result r) {
                            this->resumed();
                            on_service_answer(name, std::move(r));
                        }));
                } else {
                    const auto f = q->kind == service_resolution::query::type::ipv6 ? address_family::ipv6
                                                                                     : address_family::ipv4;
                    s.handles.push_back(s.via->lookup(this->strand_, q->name, f,
                                                           [self, this, name = q->name, f](lookup_result r) {
                                                               this->resumed();
                                                               on_target_answer(name, f, std::move(r));
                                                           }));
                }
            } catch (const std::exception&) {
                // A resolver that throws answers nothing for this name.
                boost::asio::post(this->strand_, [self, this, q = *q] {
                    if (q.kind == service_resolution::query::type::https) {
                        service_result failed;
                        failed.error = make_error_code(error::dns_failure);
                        on_service_answer(q.name, std::move(failed));
                    } else {
                        lookup_result failed;
                        failed.error = make_error_code(error::dns_failure);
                        on_target_answer(q.name, q.kind == service_resolution::query::type::ipv6
                                                     ? address_family::ipv6 : address_family::ipv4,
                                         std::move(failed));
                    }
                });
            }
        }
    }

    void on_service_answer(const std::string& name, service_result r) {
        const auto now = clock::now();
        if (this->trace_)
            this->fire(this->trace_->dns_answer, dns_answer_info{.host = name,
                                                                 .family = address_family::ipv6,
                                                                 .addrs = {},
                                                                 .error = r.error,
                                                                 .source = r.source,
                                                                 .coalesced = r.coalesced,
                                                                 .elapsed = now - dns_->started,
                                                                 .https = true,
                                                                 .records = r.records});
        dns_->services->plan.on_https(name, r);
        services_step(now);
    }

    void on_target_answer(const std::string& name, address_family f, lookup_result r) {
        const auto now = clock::now();
        if (this->trace_) fire_address_answer(name, f, r, now);
        dns_->services->plan.on_addresses(name, f, r);
        services_step(now);
    }

    void services_step(clock::time_point now) {
        auto& s = *dns_->services;
        pump_services();
        if (s.finished || !s.plan.done()) return;
        s.finished = true;
        s.handles.clear();
        if (this->trace_) report_dns_done(now);
        on_services(now);
    }

    void on_lookup(address_family f, lookup_result result) {
        auto& l = dns_->lookups[index(f)];
        if (!l.pending) return;
        l.pending = false;
        l.handle.reset();
        l.result = std::move(result);
        const auto now = clock::now();
        if (this->trace_) report_answer(f, now);
        on_answer(f, now);
    }

    void report_answer(address_family f, clock::time_point now) {
        fire_address_answer(host_, f, dns_->lookups[index(f)].result, now);
        report_dns_done(now);
    }

    // One family's dns_answer: of the host, or of a name its HTTPS records point to.
    void fire_address_answer(std::string_view name, address_family f, const lookup_result& r, clock::time_point now) {
        this->fire(this->trace_->dns_answer, dns_answer_info{.host = name,
                                                             .family = f,
                                                             .addrs = r.addrs,
                                                             .error = r.error,
                                                             .source = r.source,
                                                             .coalesced = r.coalesced,
                                                             .elapsed = now - dns_->started});
    }

    // dns_done, once everything asked has answered.
    void report_dns_done(clock::time_point now) {
        if (lookups_pending() || !this->trace_->dns_done) return;
        dns_done_info done{.host = host_,
                           .addrs = {},
                           .coalesced = false,
                           .error = {},
                           .source = dns_source::none,
                           .elapsed = now - dns_->started};
        std::vector<boost::asio::ip::address> all;
        for (const auto& l : dns_->lookups) {
            all.insert(all.end(), l.result.addrs.begin(), l.result.addrs.end());
            done.coalesced = done.coalesced || l.result.coalesced;
            if (done.source == dns_source::none || (!l.result.addrs.empty() && all.size() == l.result.addrs.size()))
                done.source = l.result.source;
        }
        done.addrs = all;
        if (all.empty())
            done.error = combine_lookup_errors(dns_->lookups[0].result.error, dns_->lookups[1].result.error);
        this->fire(this->trace_->dns_done, done);
    }

    std::unique_ptr<dns_state> dns_;
};

}  // namespace nettrace::detail
