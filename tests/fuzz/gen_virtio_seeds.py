#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of the virtio fuzz targets (tests/fuzz/corpus/NAME/) from the layouts
documented at the top of each tests/fuzz/fuzz_NAME.c: for each device, inputs that activate it and
make a request that succeeds. Run from the repository root: python3 tests/fuzz/gen_virtio_seeds.py"""
import os
import struct

def u8(v): return struct.pack('<B', v & 0xff)
def u16(v): return struct.pack('<H', v & 0xffff)
def u32(v): return struct.pack('<I', v & 0xffffffff)
def u64(v): return struct.pack('<Q', v & 0xffffffffffffffff)


# --- mmio: a device number and host options, then a program (fuzz_mmio.c) ---------------------------
BLK, NET, CON, RNG, VSOCK = range(5)
INDIRECT, EVENT_IDX = 1 << 28, 1 << 29


def init(features, qsize_byte=4):  # 4: 16 entries
    return u8(3) + u64(features) + u8(qsize_byte)


def chain(q, segs, indirect=False):  # segs: (len, device-writable, contents)
    out = u8(4) + u8(q) + u8((len(segs) - 1) | (0x80 if indirect else 0))
    for (ln, wr, data) in segs:
        out += u16(ln | (0x8000 if wr else 0)) + u8(len(data)) + data
    return out


def kick(q): return u8(6) + u8(q)
def host(b): return u8(8) + b


def blk_hdr(t, sector): return u32(t) + u32(0) + u64(sector)
def ctl(port, event, value): return u32(port) + u16(event) + u16(value)


def vsock_hdr(src_port, dst_port, op, ln=0):
    return u64(3) + u64(2) + u32(src_port) + u32(dst_port) + u32(ln) + u16(1) + u16(op) + u32(0) + \
        u32(65536) + u32(0)


def mmio_seeds():
    flush, mrg, mtu, mac, status, multiport = 1 << 9, 1 << 15, 1 << 3, 1 << 5, 1 << 16, 1 << 1
    frame = lambda n, fill: u8(0) + u16(n) + b'\0' * 12 + fill * (n - 12)  # net: the host sends
    vsock_rx = chain(0, [(44 + 256, 1, b'')]) * 3 + kick(0)
    return {
        'blk_read': u8(BLK) + u8(0) + init(flush) +
                    chain(0, [(16, 0, blk_hdr(0, 1)), (512, 1, b''), (1, 1, b'')]) + kick(0),
        'blk_write_getid': u8(BLK) + u8(0) + init(flush | EVENT_IDX) +
                           chain(0, [(16, 0, blk_hdr(1, 2)), (512, 0, b'data'), (1, 1, b'')]) +
                           chain(0, [(16, 0, blk_hdr(8, 0)), (20, 1, b''), (1, 1, b'')], True) + kick(0),
        'net_rx_tx': u8(NET) + u8(0) + init(mac | status) + chain(0, [(1526, 1, b'')]) +
                     host(frame(60, b'\xff')) + chain(1, [(12, 0, b''), (60, 0, b'\xff' * 14)]) + kick(1) +
                     host(u8(1)),
        'net_mrg': u8(NET) + u8(0) + init(mrg | mtu | EVENT_IDX) + chain(0, [(0x7000, 1, b'')] * 3) +
                   kick(0) + host(frame(100, b'\xee')),
        'console_plain': u8(CON) + u8(0) + init(0) + chain(0, [(64, 1, b'')]) + kick(0) +
                         host(u8(4 * 5) + b'hello') + chain(1, [(2, 0, b'hi')]) + kick(1) + host(u8(2)),
        'console_multiport': u8(CON) + u8(0) + init(multiport) + chain(2, [(8, 1, b'')]) * 3 + kick(2) +
                             chain(0, [(64, 1, b'')]) + kick(0) + chain(3, [(8, 0, ctl(0xffffffff, 0, 1))]) +
                             chain(3, [(8, 0, ctl(0, 3, 1))]) + chain(3, [(8, 0, ctl(0, 6, 1))]) + kick(3) +
                             host(u8(4 * 3) + b'abc'),
        'console_file': u8(CON) + u8(4) + chain(0, [(64, 1, b'')]) + init(0),
        'rng': u8(RNG) + u8(0) + init(INDIRECT) + chain(0, [(64, 1, b''), (32, 1, b'')]) +
               chain(0, [(16, 1, b'')], True) + kick(0),
        'vsock_guest_connect': u8(VSOCK) + u8(0) + init(0) + vsock_rx +
                               chain(1, [(44, 0, vsock_hdr(5000, 1000, 1))]) + kick(1) + host(u8(2) + u8(0)) +
                               chain(1, [(44, 0, vsock_hdr(5000, 1000, 5, 4)), (4, 0, b'ping')]) + kick(1) +
                               host(u8(3) + u8(0) + u16(4) + b'pong') + host(u8(4) + u8(0)),
        'vsock_host_connect': u8(VSOCK) + u8(0) + init(EVENT_IDX) + vsock_rx + host(u8(0) + u8(1) + u8(80)) +
                              chain(1, [(44, 0, vsock_hdr(80, 1024, 2))]) + kick(1) +
                              host(u8(3) + u8(1) + u16(3) + b'abc') + host(u8(5) + u8(1)),
    }


def blk_seeds():
    # requests: kind, sector, shape (data segments | status bytes << 2 | split 0x10 | indirect 0x20)
    out_ = u8(1) + u8(2) + u8(0x05) + u16(1) + u8(0x41)   # OUT sector 2, 512 bytes, seed 0x41
    in_ = u8(0) + u8(2) + u8(0x05) + u16(1)               # IN sector 2, 512 bytes
    in_split = u8(0) + u8(1) + u8(0x36) + u16(2) + u16(0x8000 | 512)
    flush = u8(2) + u8(0) + u8(0x04)
    get_id = u8(3) + u8(0) + u8(0x05) + u16(0x8000 | 20)
    discard = u8(4) + u8(0) + u8(0x04) + u8(4) + u8(2) + u8(0)
    zeroes = u8(5) + u8(0) + u8(0x04) + u8(6) + u8(2) + u8(1)
    return {
        'rw': u8(0x1e) + u8(0x30) + out_ + in_ + in_split + flush + get_id + discard + zeroes + in_,
        'writethrough': u8(0) + u8(16) + out_ + in_,
        'read_only': u8(1) + u8(8) + in_ + out_ + get_id,
    }


def net_seeds():
    hdr = b'\0' * 12
    csum_hdr = u8(1) + u8(0) + u16(0) + u16(0) + u16(34) + u16(16) + u16(0)
    post = lambda shape, chains: u8(1) + u8(shape) + b''.join(
        u8(len(c) - 1) + b''.join(u16(ln) for ln in c) for c in chains)
    frame = lambda body, h=hdr: u8(2) + h + u16(body)
    tx = lambda body, shape, h=csum_hdr: u8(0) + h + u16(body) + u8(shape)
    drain = u8(3)
    mtu1500 = u8((1500 - 68) // 8)
    return {
        'plain': u8(0) + mtu1500 + post(0, [[1526]]) + frame(100) + tx(60, 1) + tx(200, 6) + drain,
        'mrg': u8(5) + mtu1500 + post(3, [[6000] * 3] * 4) + frame(3000) + frame(100) + tx(1000, 0) * 3 +
               drain,
        'mtu': u8(2) + mtu1500 + post(1, [[2000], [2000]]) + frame(1600) + frame(10) + frame(500),
    }


def vsock_seeds():
    REQUEST, RESPONSE, RST, SHUTDOWN, RW, CREDIT_UPDATE, CREDIT_REQUEST = 1, 2, 3, 4, 5, 6, 7
    # sel, src port (guest: 0 -> 5000; 0xf0 + u32 raw), dst port (0 -> 1000, 0x80 -> 1024), op, flags,
    # buf_alloc (b * 64), fwd_cnt u32, payload u16
    def pkt(op, src=u8(0), dst=u8(0), payload=0, flags=0, sel=0, credit=0xef, fwd=0):
        return u8(0) + u8(sel) + src + dst + u8(op) + u8(flags) + u8(credit) + u32(fwd) + u16(payload)

    post = u8(1) + u8(3) + u16(4096) * 4
    host = lambda b: u8(2) + b
    guest80 = u8(0xf0) + u32(80)
    return {
        'guest_connect': u8(0) + post + pkt(REQUEST) + host(u8(2) + u8(0)) + pkt(RW, payload=5) +
                         host(u8(3) + u8(0) + u16(4) + b'pong') + u8(3) + host(u8(4) + u8(0)) +
                         pkt(SHUTDOWN, flags=3) + pkt(RST),
        'small_credit': u8(0) + post + pkt(REQUEST, credit=16) + host(u8(2) + u8(0)) +
                        host(u8(3) + u8(0) + u16(3000) + bytes(range(256)) * 11 + bytes(184)) + post +
                        pkt(CREDIT_UPDATE, credit=16, fwd=1024),
        'host_connect': u8(1) + post + host(u8(0) + u8(1) + u8(80)) + pkt(RESPONSE, guest80, u8(0x80)) +
                        host(u8(3) + u8(1) + u16(3) + b'abc') + pkt(CREDIT_REQUEST, guest80, u8(0x80)) +
                        pkt(RW, guest80, u8(0x80), payload=100, sel=0x30) + post,
    }


def console_ctrl_seeds():
    # ctrl: id selector (0: port 0, 1: 0xffffffff), event, value, shape
    ctrl = lambda sel, event, value, shape=0: u8(0) + u8(sel) + u16(event) + u16(value) + u8(shape)
    crx = u8(1) + u8(3) + u8(8) * 4
    rx = u8(2) + u8(1) + u8(64) * 2
    handshake = ctrl(1, 0, 1) + ctrl(0, 3, 1) + ctrl(0, 6, 1, 0x10)
    type_ = lambda text: u8(3) + u8(len(text)) + text
    tx = lambda text: u8(4) + u8(len(text)) + text
    return {
        'handshake': u8(0) + crx + rx + handshake + type_(b'hello') + tx(b'hi'),
        'file_input': u8(3) + crx + rx + handshake + tx(b'out'),
        'port_closed': u8(0) + crx + rx + handshake + ctrl(0, 6, 0) + type_(b'held') + ctrl(0, 6, 1, 0x28),
    }


TARGETS = {'mmio': mmio_seeds, 'blk': blk_seeds, 'net': net_seeds, 'vsock': vsock_seeds,
           'console_ctrl': console_ctrl_seeds}

for target, make in TARGETS.items():
    out = os.path.join('tests', 'fuzz', 'corpus', target)
    os.makedirs(out, exist_ok=True)
    for name, data in make().items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
