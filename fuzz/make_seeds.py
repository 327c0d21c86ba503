#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Run it again after changing the seeds; the files are committed, so the
fuzzers and the replay test (test/fuzz_replay_test.cpp) do not need Python.
The DNS seeds follow the input format of dns_answer_fuzzer.cpp: one byte
of flags, then the reply (or, with the splice flag, its header and answers
around the query's own question).
The proxy seeds follow http_connect_fuzzer.cpp and socks5_reply_fuzzer.cpp:
one byte of flags, then the byte stream the proxy sends.
The text seeds (json_text_fuzzer.cpp) are the bytes themselves.
"""
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

ADDRESS = [
    "localhost:80", "127.0.0.1:80", "[::1]:443", "[fe80::1%lo]:22", "[fe80::1%1]:22", "[fe80::1%]:22",
    "[::ffff:1.2.3.4]:80", "example.com:https", "EXAMPLE.COM:HTTP", "a.b.c.:8080", "_srv._tcp.example.com:1",
    "x:domain", "db:postgresql", "host:0", "host:65535", "host:65536", "host:99999999999999999999", "host:",
    ":80", "[::1", "[::1]x", "[::1]", "[[::1]]:80", "]:80", "::1:80", "1.2.3.4%eth0:80", "name%eth0:80",
    "a..b:1", "-a.com:1", "a-.com:1", "256.1.1.1:80", "1.2.3:80", "0x7f.1:80", "host\x00junk:80",
    "tcp", "tcp4", "tcp6", "udp", "TCP", "",
    "a" * 63 + ".com:1", "a" * 64 + ".com:1", ("a" * 63 + ".") * 3 + "a" * 61 + ":1",
    ("a" * 63 + ".") * 3 + "a" * 62 + ":1", "h:no-such-service", "h:ht tp", "[1:2:3:4:5:6:7:8]:1",
    "[1:2:3:4:5:6:7:8:9]:1", "[::1%99999999999]:1",
]

RESOLVE = [
    "h.test:80:127.0.0.1", "h.test:443:[::1]", "h.test:443:::1", "h.test:443:[::1],127.0.0.1,[fe80::1%1]",
    "h.test:80:127.0.0.1,", "h.test:80:,127.0.0.1", "h.test:80:", "h.test:80", "h.test", ":80:127.0.0.1",
    "h.test:0:127.0.0.1", "h.test:65535:127.0.0.1", "h.test:65536:127.0.0.1", "h.test:+80:127.0.0.1",
    "h.test:80:[127.0.0.1]", "h.test:80:[::1", "h.test:80:::1]", "h.test:80:[]", "-bad:80:127.0.0.1",
    "h.test.:80:1.2.3.4", "H.TEST:8080:1.2.3.4,5.6.7.8,[2001:db8::1]", "h.test:80:127.0.0.1\x00junk",
    "h.test:80:[fe80::1%lo]", "h.test:80:1.2.3.4:5", "a" * 64 + ":80:1.2.3.4",
]


# --- DNS messages ---------------------------------------------------------

def name(n):
    out = b""
    for label in n.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


PTR_Q = b"\xc0\x0c"  # a pointer to the question's name (offset 12 in the spliced reply)


def header(flags=0x8180, qd=1, an=0, ns=0, ar=0, id_=0):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def rr(owner, rtype, rdata, ttl=300, rclass=1):
    return owner + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def a(ip):
    return bytes(int(x) for x in ip.split("."))


def aaaa(*groups):
    return b"".join(struct.pack(">H", g) for g in groups)


V6_1 = aaaa(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)
V6_2 = aaaa(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2)

A, AAAA_, CNAME = 1, 28, 5
SPLICE, RAW_ID, RAW_QD = 2, 4, 8


def splice(qtype_v6, hdr, answers=b"", extra=0):
    return bytes([(1 if qtype_v6 else 0) | SPLICE | extra]) + hdr + answers


def raw(qtype_v6, message, extra=0):
    return bytes([(1 if qtype_v6 else 0) | extra]) + message


def question(n, qtype):
    return name(n) + struct.pack(">HH", qtype, 1)


DNS = {
    "a_one": splice(False, header(an=1), rr(PTR_Q, A, a("192.0.2.1"))),
    "a_three": splice(False, header(an=3), rr(PTR_Q, A, a("192.0.2.1")) + rr(PTR_Q, A, a("192.0.2.2")) +
                      rr(PTR_Q, A, a("192.0.2.3"))),
    "aaaa_one": splice(True, header(an=1), rr(PTR_Q, AAAA_, V6_1)),
    "aaaa_two": splice(True, header(an=2), rr(PTR_Q, AAAA_, V6_1) + rr(PTR_Q, AAAA_, V6_2)),
    "wrong_family_aaaa_for_a": splice(False, header(an=1), rr(PTR_Q, AAAA_, V6_1)),
    "wrong_family_a_for_aaaa": splice(True, header(an=1), rr(PTR_Q, A, a("192.0.2.1"))),
    "mixed_families": splice(False, header(an=2), rr(PTR_Q, AAAA_, V6_1) + rr(PTR_Q, A, a("192.0.2.9"))),
    "nxdomain": splice(False, header(flags=0x8183)),
    "servfail": splice(False, header(flags=0x8182)),
    "refused": splice(True, header(flags=0x8185)),
    "formerr": splice(False, header(flags=0x8181)),
    "notimp": splice(False, header(flags=0x8184)),
    "nodata": splice(True, header()),
    "cname_then_a": splice(False, header(an=2), rr(PTR_Q, CNAME, name("real.test")) +
                           rr(name("real.test"), A, a("192.0.2.7"))),
    "cname_chain": splice(True, header(an=4), rr(PTR_Q, CNAME, name("c1.test")) + rr(name("c1.test"), CNAME, name("c2.test")) +
                          rr(name("c2.test"), CNAME, name("c3.test")) + rr(name("c3.test"), AAAA_, V6_2)),
    "cname_loop": splice(False, header(an=3), rr(PTR_Q, CNAME, name("loop.test")) +
                         rr(name("loop.test"), CNAME, name("fuzz.test")) + rr(name("loop.test"), A, a("192.0.2.8"))),
    "answer_for_another_name": splice(False, header(an=1), rr(name("other.test"), A, a("203.0.113.1"))),
    "cname_elsewhere_a_for_another": splice(False, header(an=2), rr(PTR_Q, CNAME, name("real.test")) +
                                            rr(name("evil.test"), A, a("203.0.113.2"))),
    "question_for_another_name": raw(False, header(an=1) + question("other.test", A) + rr(PTR_Q, A, a("203.0.113.3"))),
    "question_of_another_type": raw(False, header(an=1) + question("fuzz.test", AAAA_) + rr(PTR_Q, A, a("203.0.113.4"))),
    "two_questions": splice(False, header(qd=2, an=1), question("fuzz.test", A) + rr(PTR_Q, A, a("203.0.113.5")), RAW_QD),
    "id_mismatch": splice(False, header(an=1, id_=0xbeef), rr(PTR_Q, A, a("203.0.113.6")), RAW_ID),
    "qr_clear": splice(False, header(flags=0x0100, an=1), rr(PTR_Q, A, a("192.0.2.10"))),
    "opcode_status": splice(False, header(flags=0x9180, an=1), rr(PTR_Q, A, a("192.0.2.11"))),
    "truncated_tc": splice(False, header(flags=0x8380, an=1), rr(PTR_Q, A, a("192.0.2.12"))),
    "short_header": raw(False, b"\x00\x00\x81\x80\x00"),
    "empty": raw(True, b""),
    "compression_loop_self": splice(False, header(an=1), b"\xc0\x1b" + b"\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04" + a("192.0.2.13")),
    # Two names pointing at each other: a TXT record's rdata at 39 ("y" -> 43)
    # and the A record's owner at 43 ("x" -> 39).
    "compression_loop_pair": splice(False, header(an=2), rr(PTR_Q, 16, b"\x01y\xc0\x2b") +
                                    rr(b"\x01x\xc0\x27", A, a("192.0.2.14"))),
    "pointer_past_end": splice(False, header(an=1), b"\xc3\xff" + b"\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04" + a("192.0.2.15")),
    "label_too_long": splice(False, header(an=1), b"\x50" + b"a" * 80 + b"\x00" + b"\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x04" + a("192.0.2.16")),
    "rdlength_short_a": splice(False, header(an=1), PTR_Q + b"\x00\x01\x00\x01\x00\x00\x01\x2c\x00\x03" + b"\xc0\x00\x02"),
    "rdlength_4_aaaa": splice(True, header(an=1), PTR_Q + b"\x00\x1c\x00\x01\x00\x00\x01\x2c\x00\x04" + a("192.0.2.17")),
    "rdlength_past_end": splice(False, header(an=1), PTR_Q + b"\x00\x01\x00\x01\x00\x00\x01\x2c\x10\x00" + a("192.0.2.18")),
    "ancount_too_big": splice(False, header(an=9), rr(PTR_Q, A, a("192.0.2.19"))),
    "class_chaos": splice(False, header(an=1), rr(PTR_Q, A, a("192.0.2.20"), rclass=3)),
    "ttl_zero_and_max": splice(False, header(an=2), rr(PTR_Q, A, a("192.0.2.21"), ttl=0) + rr(PTR_Q, A, a("192.0.2.22"), ttl=0xffffffff)),
    "duplicates": splice(False, header(an=3), rr(PTR_Q, A, a("192.0.2.23")) * 3),
    "v4_mapped_aaaa": splice(True, header(an=1), rr(PTR_Q, AAAA_, aaaa(0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304))),
    "a_unspecified_and_broadcast": splice(False, header(an=2), rr(PTR_Q, A, a("0.0.0.0")) + rr(PTR_Q, A, a("255.255.255.255"))),
    "additional_section_address": splice(False, header(an=0, ar=1), rr(PTR_Q, A, a("203.0.113.7"))),
    "authority_section_address": splice(False, header(an=0, ns=1), rr(PTR_Q, A, a("203.0.113.8"))),
    "opt_record": splice(False, header(an=1, ar=1), rr(PTR_Q, A, a("192.0.2.24")) + b"\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00"),
    "other_types_mixed": splice(False, header(an=3), rr(PTR_Q, 16, b"\x05hello") + rr(PTR_Q, 39, name("dname.test")) +
                                rr(PTR_Q, A, a("192.0.2.25"))),
    "huge_answer": splice(False, header(an=300), b"".join(rr(PTR_Q, A, bytes([198, 51, i // 256, i % 256])) for i in range(300))),
    "mixed_case_owner": splice(False, header(an=1), rr(name("FuZz.TeSt"), A, a("192.0.2.26"))),
    "owner_with_nul": splice(False, header(an=1), rr(b"\x04fuzz\x06test\x00x\x00", A, a("203.0.113.9"))),
    "owner_with_dot_in_label": splice(False, header(an=1), rr(b"\x09fuzz.test\x00", A, a("203.0.113.10"))),
}


# --- HTTPS/SVCB records (svcb_fuzzer) -------------------------------------
# One byte of flags (bit 0: one RDATA; bit 1: splice a response around the
# question "svc.test HTTPS IN"; bit 2: ask as "SVC.Test."), then the bytes.

S_RDATA, S_SPLICE, S_CASE = 1, 2, 4
HTTPS = 65


def svcb(priority, target, params=()):
    """RDATA: params as (key, value bytes), written in the order given."""
    out = struct.pack(">H", priority) + name(target)
    for key, value in params:
        out += struct.pack(">HH", key, len(value)) + value
    return out


def alpn(*ids):
    return b"".join(bytes([len(i)]) + i.encode() for i in ids)


def keys(*ks):
    return b"".join(struct.pack(">H", k) for k in ks)


def rdata_seed(data):
    return bytes([S_RDATA]) + data


def response_seed(hdr, answers=b"", extra=0):
    return bytes([S_SPLICE | extra]) + hdr + answers


FOO_COM = bytes.fromhex("03666f6f076578616d706c6503636f6d00")
FOO_ORG = bytes.fromhex("03666f6f076578616d706c65036f726700")
GOOD = svcb(1, "", [(1, alpn("h2")), (3, struct.pack(">H", 8443)), (4, a("127.0.0.1"))])
SVCB_SEEDS = {
    # RFC 9460 appendix D.
    "rfc_d1_alias": rdata_seed(b"\x00\x00" + FOO_COM),
    "rfc_d2_fig3_dot": rdata_seed(bytes.fromhex("000100")),
    "rfc_d2_fig4_port": rdata_seed(bytes.fromhex("0010") + FOO_COM + bytes.fromhex("000300020035")),
    "rfc_d2_fig5_key667": rdata_seed(bytes.fromhex("0001") + FOO_COM + bytes.fromhex("029b000568656c6c6f")),
    "rfc_d2_fig6_key667_escaped": rdata_seed(bytes.fromhex("0001") + FOO_COM +
                                             bytes.fromhex("029b000968656c6c6fd2716f6f")),
    "rfc_d2_fig7_ipv6hints": rdata_seed(bytes.fromhex("0001") + FOO_COM + bytes.fromhex(
        "0006002020010db800000000000000000000000120010db8000000000000000000530001")),
    "rfc_d2_fig8_ipv6hint_v4": rdata_seed(bytes.fromhex(
        "0001 076578616d706c6503636f6d00 0006 0010 20010db8012203440000 0000c0000221")),
    "rfc_d2_fig9_mandatory": rdata_seed(bytes.fromhex("0010") + FOO_ORG +
                                        bytes.fromhex("0000 0004 0001 0004 0001 0009 02 6832 05 68332d3139 0004 0004 c0000201")),
    "rfc_d2_fig10_alpn_escapes": rdata_seed(bytes.fromhex("0010") + FOO_ORG +
                                            bytes.fromhex("0001 000c 08 665c6f6f2c626172 02 6832")),
    # Everything at once, and the hev3-cases.md shapes.
    "all_keys": rdata_seed(svcb(2, "alt.test", [(0, keys(1, 3)), (1, alpn("h3", "h2")), (2, b""), (3, b"\x01\xbb"),
                                                 (4, a("192.0.2.1") + a("192.0.2.2")), (5, b"\x00\x45\xfe\x0d"),
                                                 (6, V6_1 + V6_2), (7, b"/dns"), (65000, b"")])),
    "h3_only_no_default_alpn": rdata_seed(svcb(1, "", [(1, alpn("h3")), (2, b"")])),
    "mandatory_unknown_key": rdata_seed(svcb(1, "", [(0, keys(7)), (7, b"/q")])),
    "ipv4_mapped_ipv6hint": rdata_seed(svcb(1, "", [(6, aaaa(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201))])),
    "alias_with_garbage_params": rdata_seed(svcb(0, "pool.test", [(4, b"\x01\x02\x03"), (1, b""), (1, b"")])),
    "alias_dot": rdata_seed(svcb(0, "")),
    # Malformed, one fault each.
    "bad_ipv4hint_length": rdata_seed(svcb(1, "", [(4, b"\x7f\x00\x00\x01\x09")])),
    "bad_ipv6hint_length": rdata_seed(svcb(1, "", [(6, bytes(20))])),
    "bad_port_length": rdata_seed(svcb(1, "", [(3, b"\x01\x02\x03")])),
    "bad_port_zero": rdata_seed(svcb(1, "", [(3, b"\x00\x00")])),
    "bad_alpn_empty_id": rdata_seed(svcb(1, "", [(1, b"\x02h2\x00")])),
    "bad_alpn_overrun": rdata_seed(svcb(1, "", [(1, b"\x05h2")])),
    "bad_ech_empty": rdata_seed(svcb(1, "", [(5, b"")])),
    "bad_keys_descending": rdata_seed(svcb(1, "", [(3, b"\x01\xbb"), (1, alpn("h2"))])),
    "bad_keys_duplicate": rdata_seed(svcb(1, "", [(123, b"abc"), (123, b"def")])),
    "bad_key_65535": rdata_seed(svcb(1, "", [(65535, b"")])),
    "bad_mandatory_odd": rdata_seed(svcb(1, "", [(0, b"\x00\x01\x00"), (1, alpn("h2"))])),
    "bad_mandatory_lists_itself": rdata_seed(svcb(1, "", [(0, keys(0))])),
    "bad_mandatory_absent": rdata_seed(svcb(1, "", [(0, keys(4)), (1, alpn("h2"))])),
    "bad_no_default_alpn_alone": rdata_seed(svcb(1, "", [(2, b"")])),
    "bad_no_default_alpn_value": rdata_seed(svcb(1, "", [(1, alpn("h2")), (2, b"abc")])),
    "bad_target_compressed": rdata_seed(b"\x00\x01\xc0\x0c"),
    "bad_target_dot_in_label": rdata_seed(b"\x00\x01\x01a\x03b.c\x00"),
    "bad_target_label_64": rdata_seed(b"\x00\x01\x40" + b"a" * 64 + b"\x00"),
    "bad_param_header_cut": rdata_seed(b"\x00\x01\x00\x00\x01\x00"),
    "bad_param_overrun": rdata_seed(b"\x00\x01\x00\x00\x04\x00\x08\x01\x02\x03\x04"),
    "bad_short": rdata_seed(b"\x00"),
    # Whole responses (spliced around the question).
    "response_two_records": response_seed(header(an=2), rr(PTR_Q, HTTPS, GOOD) +
                                          rr(PTR_Q, HTTPS, svcb(2, "alt.test", [(1, alpn("h3"))]), ttl=60)),
    "response_nodata": response_seed(header()),
    "response_nxdomain": response_seed(header(flags=0x8183)),
    "response_servfail": response_seed(header(flags=0x8182)),
    "response_refused": response_seed(header(flags=0x8185)),
    "response_truncated": response_seed(header(flags=0x8380, an=1), rr(PTR_Q, HTTPS, GOOD)),
    "response_case_and_dot": response_seed(header(an=1), rr(name("SvC.TeSt"), HTTPS, GOOD), S_CASE),
    "response_cname_chain_backwards": response_seed(header(an=3), rr(name("c2.test"), HTTPS, svcb(1, "")) +
                                                    rr(name("c1.test"), CNAME, name("c2.test"), ttl=30) +
                                                    rr(PTR_Q, CNAME, name("c1.test"))),
    "response_cname_loop": response_seed(header(an=3), rr(PTR_Q, CNAME, name("x.test")) +
                                         rr(name("x.test"), CNAME, name("svc.test")) + rr(name("x.test"), HTTPS, GOOD)),
    "response_cname_fork": response_seed(header(an=3), rr(PTR_Q, CNAME, name("x.test")) +
                                         rr(PTR_Q, CNAME, name("y.test")) + rr(name("y.test"), HTTPS, GOOD)),
    "response_cname_to_root": response_seed(header(an=2), rr(PTR_Q, CNAME, b"\x00") + rr(b"\x00", HTTPS, svcb(1, ""))),
    "response_other_owner": response_seed(header(an=3), rr(name("other.test"), HTTPS, GOOD) +
                                          rr(name("other.test"), CNAME, name("evil.test")) +
                                          rr(name("evil.test"), HTTPS, GOOD)),
    "response_malformed_beside_good": response_seed(header(an=2), rr(PTR_Q, HTTPS, GOOD) +
                                                    rr(PTR_Q, HTTPS, svcb(2, "", [(4, b"\x7f\x00\x00\x01\x09")]))),
    "response_class_chaos": response_seed(header(an=1), rr(PTR_Q, HTTPS, GOOD, rclass=3)),
    "response_ttl_top_bit": response_seed(header(an=1), rr(PTR_Q, HTTPS, GOOD, ttl=0x80000001)),
    "response_pointer_self": response_seed(header(an=1), b"\xc0\x1a" + struct.pack(">HHIH", HTTPS, 1, 300, len(GOOD)) +
                                           GOOD),
    "response_pointer_pair": response_seed(header(an=2), rr(PTR_Q, CNAME, b"\x01y\xc0\x2a") +
                                           rr(b"\x01x\xc0\x26", HTTPS, GOOD)),
    "response_rdlength_past_end": response_seed(header(an=1), PTR_Q + struct.pack(">HHIH", HTTPS, 1, 300, 900) + GOOD),
    "response_raw_not_spliced": bytes([0]) + header(an=1) + question("svc.test", HTTPS) + rr(PTR_Q, HTTPS, GOOD),
    "response_empty": bytes([0]),
}


# --- Proxy replies (http_connect_fuzzer, socks5_reply_fuzzer) ---------------

MAX_PROXY_HEADER = 16 * 1024  # src/detail/proxy_handshake.hpp
H_V6, H_PAD, H_CREDS, H_EOF = 16, 32, 64, 128  # http_connect_fuzzer's flags; bits 0-3: arrival size
TLS = b"\x16\x03\x01\x00\x05hello"  # what a target sends through the tunnel


def http(stream, flags=0):
    return bytes([flags]) + (stream.encode("latin-1") if isinstance(stream, str) else stream)


def padded_to(total, status="HTTP/1.1 200 OK"):
    head = status + "\r\nX-Pad: "
    return head + "p" * (total - len(head) - 4) + "\r\n\r\n"


HTTP_SEEDS = {
    "ok_200": http("HTTP/1.1 200 Connection established\r\n\r\n"),
    "ok_200_then_tunnel": http(b"HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\n" + TLS),
    "ok_200_content_length": http("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"),
    "ok_http10_no_reason": http("HTTP/1.0 200\r\n\r\n"),
    "ok_204": http("HTTP/1.1 204 No Content\r\n\r\n"),
    "ok_lf_only": http(b"HTTP/1.1 200 OK\nVia: x\n\n" + TLS),
    "ok_lf_crlf": http(b"HTTP/1.1 200 OK\r\nVia: x\n\r\n" + TLS),
    "ok_stray_cr": http(b"HTTP/1.1 200 OK\r\r\n\r\r\nX: y\r\n\r\n" + TLS),
    "ok_one_byte_arrivals": http(b"HTTP/1.1 200 OK\r\nVia: x\r\n\r\n" + TLS, 1),
    "ok_three_byte_arrivals": http(b"HTTP/1.1 200 OK\r\nVia: x\r\n\r\n" + TLS, 3),
    "ok_ipv6_target_creds": http("HTTP/1.1 200 OK\r\n\r\n", H_V6 | H_CREDS),
    "ok_exactly_the_bound": http(padded_to(MAX_PROXY_HEADER) + "T"),
    "ok_padded": http("HTTP/1.1 200 OK\r\nVia: x\r\n\r\nT", H_PAD),
    "interim_100_then_200": http(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n" + TLS),
    "interim_103_then_407": http("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 407 Auth\r\n\r\n", 2),
    "interim_flood": http("HTTP/1.1 100 Continue\r\n\r\n" * 700),
    "switching_101": http("HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"),
    "auth_407": http("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"p\"\r\n"
                     "Content-Length: 0\r\n\r\n", H_CREDS),
    "forbidden_403": http("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nForbidden"),
    "bad_gateway_502": http("HTTP/1.0 502 Bad Gateway\r\n\r\n"),
    "redirect_301": http("HTTP/1.1 301 Moved Permanently\r\nLocation: http://x/\r\n\r\n"),
    "long_reason": http("HTTP/1.1 403 " + "r" * 300 + "\r\n\r\n"),
    "unprintable_reason": http(b"HTTP/1.1 403 Verboten\xc3\xa4\t\x00\x1b[31m\rx\r\n\r\n"),
    "truncated_status": http("HTTP/1.1 20"),
    "truncated_headers": http("HTTP/1.1 200 OK\r\nVia: x\r\n\r"),
    "truncated_eof_error": http("HTTP/1.1 200 OK\r\n", H_EOF),
    "empty": http(""),
    "empty_eof_error": http("", H_EOF),
    "huge_header": http(padded_to(MAX_PROXY_HEADER + 4000)),
    "huge_no_end": http("HTTP/1.1 200 OK\r\n" + "X" * (MAX_PROXY_HEADER + 10)),
    "huge_padded": http("HTTP/1.1 200 OK\r\nX: " + "y" * 300 + "\r\n\r\n", H_PAD | 7),
    "garbage_ssh": http("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
    "garbage_binary": http(bytes(range(256))),
    "garbage_socks_reply": http(b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"),
    "http2": http("HTTP/2 200\r\n\r\n"),
    "lowercase_http": http("http/1.1 200 OK\r\n\r\n"),
    "code_too_short": http("HTTP/1.1 20 OK\r\n\r\n"),
    "code_too_long": http("HTTP/1.1 2000 OK\r\n\r\n"),
    "code_not_digits": http("HTTP/1.1 2x0 OK\r\n\r\n"),
    "code_099": http("HTTP/1.1 099 Low\r\n\r\n"),
    "code_600": http("HTTP/1.1 600 High\r\n\r\n"),
    "two_spaces": http("HTTP/1.1  200 OK\r\n\r\n"),
    "empty_status_line": http("\r\n\r\nHTTP/1.1 200 OK\r\n\r\n"),
}

S_CREDS, S_V6, S_NAME, S_NAME255, S_EOF = 1, 2, 4, 6, 8  # socks5_reply_fuzzer's flags


def socks(stream, flags=0):
    return bytes([flags]) + stream


NO_AUTH = b"\x05\x00"
BND_V4 = b"\x01\xc6\x33\x64\x07\x1f\x90"  # 198.51.100.7:8080
BND_V6 = b"\x04" + bytes([0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [7]) + b"\x00\x50"
OK_V4 = b"\x05\x00\x00" + BND_V4


def reply(rep, bnd=BND_V4):
    return b"\x05" + bytes([rep]) + b"\x00" + bnd


SOCKS_SEEDS = {
    "ok_ipv4_bnd_ipv4": socks(NO_AUTH + OK_V4 + TLS),
    "ok_ipv6_bnd_ipv6": socks(NO_AUTH + reply(0, BND_V6) + TLS, S_V6),
    "ok_name_bnd_name": socks(NO_AUTH + reply(0, b"\x03\x0bproxy.local\x00\x50") + TLS, S_NAME),
    "ok_name255_bnd_name255": socks(NO_AUTH + reply(0, b"\x03\xff" + b"b" * 255 + b"\x00\x50") + TLS, S_NAME255),
    "ok_bnd_empty_name": socks(NO_AUTH + reply(0, b"\x03\x00\x00\x50") + TLS),
    "ok_rsv_nonzero": socks(NO_AUTH + b"\x05\x00\x7f" + BND_V4),
    "ok_creds_offered_not_chosen": socks(NO_AUTH + OK_V4, S_CREDS),
    "auth_ok": socks(b"\x05\x02\x01\x00" + OK_V4 + TLS, S_CREDS),
    "auth_ok_version5": socks(b"\x05\x02\x05\x00" + OK_V4, S_CREDS | S_NAME),
    "auth_failed": socks(b"\x05\x02\x01\x01", S_CREDS),
    "auth_bad_version": socks(b"\x05\x02\x02\x00" + OK_V4, S_CREDS),
    "auth_truncated": socks(b"\x05\x02\x01", S_CREDS | S_EOF),
    "no_acceptable_method": socks(b"\x05\xff"),
    "method_2_not_offered": socks(b"\x05\x02\x01\x00" + OK_V4),
    "method_gssapi": socks(b"\x05\x01" + OK_V4, S_CREDS),
    "greeting_wrong_version": socks(b"\x04\x00" + OK_V4),
    "reply_wrong_version": socks(NO_AUTH + b"\x04\x00\x00" + BND_V4),
    "reply_socks4": socks(NO_AUTH + b"\x00\x5a\x00\x50\x7f\x00\x00\x01"),
    "http_reply": socks(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
    "atyp_0": socks(NO_AUTH + b"\x05\x00\x00\x00\x01\x02\x03\x04\x00\x50"),
    "atyp_2": socks(NO_AUTH + b"\x05\x00\x00\x02\x01\x02\x03\x04\x00\x50"),
    "atyp_255": socks(NO_AUTH + b"\x05\x00\x00\xff\x01\x02\x03\x04\x00\x50"),
    "empty": socks(b""),
    "empty_eof_error": socks(b"", S_EOF),
    "one_byte": socks(b"\x05"),
    "after_method": socks(NO_AUTH, S_EOF),
    "reply_head_cut": socks(NO_AUTH + b"\x05\x00\x00"),
    "bnd_ipv4_cut": socks(NO_AUTH + b"\x05\x00\x00\x01\xc6\x33", S_EOF),
    "bnd_ipv6_cut": socks(NO_AUTH + reply(0, BND_V6)[:-3], S_V6),
    "bnd_name_cut": socks(NO_AUTH + b"\x05\x00\x00\x03\xc8short", S_NAME),
}
for rep in list(range(1, 10)) + [0x80, 0xff]:
    SOCKS_SEEDS[f"reply_code_{rep}"] = socks(NO_AUTH + reply(rep), S_NAME if rep % 2 else 0)


# Regressions: inputs of bugs found by fuzzing, replayed by the test suite.
# Hand-written clear versions here; inputs found by the fuzzers are copied in
# as they are (crash-*). Bugs not fixed yet would live in known_bugs/.
REGRESSIONS = {
    "dns_answer_fuzzer": {
        # c-ares 1.18 follows every CNAME record in order, whatever its owner:
        # "other.test CNAME evil.test" + "evil.test A 203.0.113.66" answers a
        # query for fuzz.test with 203.0.113.66. Fixed: the resolver checks
        # the alias chain (src/dns_resolver.cpp, cname_chain_from).
        "unchained_cname": splice(False, header(an=2), rr(name("other.test"), CNAME, name("evil.test")) +
                                  rr(name("evil.test"), A, a("203.0.113.66"))),
        "unchained_cname_aaaa": splice(True, header(an=3), rr(PTR_Q, 16, b"\x01x") +
                                       rr(name("c1.test"), CNAME, name("c2.test")) +
                                       rr(name("c2.test"), AAAA_, V6_2)),
    },
}


# --- Text for the exporters' escaping (json_text_fuzzer.cpp) -------------
# Bytes as host names and error messages may hold them: the JSON and XML
# specials, controls, well-formed UTF-8 of each length, and the ill-formed
# kinds (stray continuation, truncated, overlong, surrogate, above U+10FFFF).

JSON_TEXT = {
    "empty": b"",
    "ascii": b"example.test",
    "json_specials": b'a"b\\c/d',
    "controls": bytes(range(0x20)) + b"\x7f",
    "whitespace_escapes": b"\b\f\n\r\t",
    "xml_markup": b"<a href='x'>&amp; \"q\"</a>",
    "utf8_each_length": "h\u00e9 \u2605 \U0001f600 \U0010ffff".encode(),
    "u_fffe_ffff": "\ufffe\uffff\ufffd".encode(),
    "stray_continuation": b"a\x80b\xbf",
    "truncated": b"\xe2\x98 \xf0\x9f\x98 \xc3",
    "overlong": b"\xc0\xaf \xe0\x80\xaf \xf0\x80\x80\xaf",
    "surrogate": b"\xed\xa0\x80 \xed\xbf\xbf",
    "above_10ffff": b"\xf4\x90\x80\x80 \xf5\x80\x80\x80 \xff\xfe",
    "latin1_message": "Verbindung abgelehnt: Zeit\u00fcberschreitung".encode("latin-1"),
    "long_note": ("\u2605 won 0.042 ms, " * 6).encode(),
}


def write_regressions():
    for target, items in REGRESSIONS.items():
        d = os.path.join(HERE, "regressions", target)
        os.makedirs(d, exist_ok=True)
        for key, data in items.items():
            with open(os.path.join(d, key), "wb") as f:
                f.write(data)


def write(target, items):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for key, data in items:
        if isinstance(data, str):
            data = data.encode("latin-1")
        with open(os.path.join(d, key), "wb") as f:
            f.write(data)


write("address_fuzzer", [(f"seed_{i:02d}", s) for i, s in enumerate(ADDRESS)])
write("resolve_spec_fuzzer", [(f"seed_{i:02d}", s) for i, s in enumerate(RESOLVE)])
write("dns_answer_fuzzer", sorted(DNS.items()))
write("http_connect_fuzzer", sorted(HTTP_SEEDS.items()))
write("socks5_reply_fuzzer", sorted(SOCKS_SEEDS.items()))
write("json_text_fuzzer", sorted(JSON_TEXT.items()))
write("svcb_fuzzer", sorted(SVCB_SEEDS.items()))
write_regressions()
print({t: len(os.listdir(os.path.join(HERE, "corpus", t))) for t in os.listdir(os.path.join(HERE, "corpus"))})
