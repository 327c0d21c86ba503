#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into fuzz/corpus/<target>/.

Run it again after changing the seeds; the files are committed, so the
fuzzers and the replay test (test/fuzz_replay_test.cpp) do not need Python.
The DNS seeds follow the input format of dns_answer_fuzzer.cpp: one byte
of flags, then the reply (or, with the splice flag, its header and answers
around the query's own question).
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
write_regressions()
print({t: len(os.listdir(os.path.join(HERE, "corpus", t))) for t in os.listdir(os.path.join(HERE, "corpus"))})
