package io.jvisor.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Little-endian key encodings for the framework maps. */
final class BpfMapKeys {
    private BpfMapKeys() {}

    static byte[] u32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }
}
