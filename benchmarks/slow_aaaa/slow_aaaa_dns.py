"""A loopback DNS server whose AAAA answers come late: A answers at once
(127.0.0.1), AAAA after DELAY seconds (::1). Serves 127.0.0.1:PORT only, for
the slow-AAAA comparison in compare.sh. Stops after LIFETIME seconds."""
import socket
import struct
import sys
import threading
import time

port, delay, lifetime = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("127.0.0.1", port))
sock.settimeout(0.2)


def reply(query, addr):
    qid, flags = struct.unpack(">HH", query[:4])
    end = 12
    while query[end] != 0:
        end += query[end] + 1
    qtype = struct.unpack(">H", query[end + 1:end + 3])[0]
    question = query[12:end + 5]
    if qtype == 1:
        rdata = socket.inet_pton(socket.AF_INET, "127.0.0.1")
    elif qtype == 28:
        rdata = socket.inet_pton(socket.AF_INET6, "::1")
        time.sleep(delay)
    else:
        rdata = None
    header = struct.pack(">HHHHHH", qid, 0x8180 | (flags & 0x0100), 1, 1 if rdata else 0, 0, 0)
    answer = b""
    if rdata:
        answer = b"\xc0\x0c" + struct.pack(">HHIH", qtype, 1, 60, len(rdata)) + rdata
    sock.sendto(header + question + answer, addr)


deadline = time.time() + lifetime
while time.time() < deadline:
    try:
        data, addr = sock.recvfrom(512)
    except socket.timeout:
        continue
    if len(data) > 12:
        threading.Thread(target=reply, args=(data, addr), daemon=True).start()
