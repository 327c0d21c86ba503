// The one list of trace hooks: X(member name, info struct). client_trace's
// members, their composition (with_client_trace), event_kind and its names,
// the recorder and the tests' recorder are all generated from it, so adding a
// hook touches this list and its info struct (and, where an event's fields
// are kept, the one function that copies them).
//
// The order is event_kind's numbering: append, never reorder.
#pragma once

#define NETTRACE_HOOKS(X)                            \
    X(dial_start, dial_start_info)                   \
    X(dns_start, dns_start_info)                     \
    X(dns_answer, dns_answer_info)                   \
    X(dns_done, dns_done_info)                       \
    X(connect_start, connect_start_info)             \
    X(connect_done, connect_done_info)               \
    X(dial_done, dial_done_info)                     \
    X(tls_handshake_start, tls_handshake_start_info) \
    X(tls_handshake_done, tls_handshake_done_info)   \
    X(proxy_connect_start, proxy_connect_start_info) \
    X(proxy_connect_done, proxy_connect_done_info)
