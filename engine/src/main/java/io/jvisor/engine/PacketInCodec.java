package io.jvisor.engine;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct jv_packet_in} of module.h, a record in the {@code jv_slowpath} ring buffer: eight
 * u32 words (slot, in_port, reason, len, wire_len, mark, hook, ifindex), then up to
 * {@link Sdk#SNAPLEN} bytes of the packet. Checked against module.h by SdkTest.
 */
final class PacketInCodec {
    private PacketInCodec() {}

    /** The byte offset of the packet data. */
    static final int DATA_OFFSET = 32;

    /** One decoded record, before its slot is resolved to an instance name. */
    record Record(int slot, int inPort, int reason, byte[] data, int wireLength, int mark, Hook hook, int ifindex) {
        PacketIn toPacketIn(String instance) {
            return new PacketIn(instance, inPort, reason, data, wireLength, mark, hook, ifindex);
        }
    }

    static Record decode(MemorySegment rec) {
        ByteBuffer b = rec.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int slot = b.getInt(0), inPort = b.getInt(4), reason = b.getInt(8), len = b.getInt(12), wire = b.getInt(16);
        int mark = b.getInt(20), hook = b.getInt(24), ifindex = b.getInt(28);
        byte[] data = new byte[Math.max(0, Math.min(len, Sdk.SNAPLEN))];
        b.get(DATA_OFFSET, data);
        return new Record(slot, inPort, reason, data, wire, mark, hook == 0 ? Hook.TC : Hook.XDP, ifindex);
    }
}
