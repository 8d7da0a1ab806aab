package io.jvisor.engine;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * {@code struct jv_packet_in} of module.h, a record in the {@code jv_slowpath} ring buffer: eight
 * u32 words (slot, in_port, reason, len, wire_len, mark, hook, ifindex), then up to
 * {@link Sdk#SNAPLEN} bytes of the packet. Offsets from {@link Sdk.PacketInLayout}, checked against module.h by SdkTest.
 */
final class PacketInCodec {
    private PacketInCodec() {}

    /** One decoded record, before its slot is resolved to an instance name. */
    record Record(int slot, int inPort, int reason, byte[] data, int wireLength, int mark, Hook hook, int ifindex) {
        PacketIn toPacketIn(String instance) {
            return new PacketIn(instance, inPort, reason, data, wireLength, mark, hook, ifindex);
        }
    }

    static Record decode(MemorySegment rec) {
        ByteBuffer b = rec.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        int len = b.getInt(Sdk.PacketInLayout.LEN);
        byte[] data = new byte[Math.max(0, Math.min(len, Sdk.SNAPLEN))];
        b.get(Sdk.PacketInLayout.DATA, data);
        return new Record(b.getInt(Sdk.PacketInLayout.SLOT), b.getInt(Sdk.PacketInLayout.IN_PORT),
                b.getInt(Sdk.PacketInLayout.REASON), data, b.getInt(Sdk.PacketInLayout.WIRE_LEN),
                b.getInt(Sdk.PacketInLayout.MARK), b.getInt(Sdk.PacketInLayout.HOOK) == Sdk.HOOK_TC ? Hook.TC : Hook.XDP,
                b.getInt(Sdk.PacketInLayout.IFINDEX));
    }
}
