package io.jvisor.engine;

import io.jvisor.bpf.BpfMap;
import io.jvisor.bpf.Cpus;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The data plane's counters, summed over CPUs: per port ({@code jv_stats}), per slot
 * ({@code jv_missed}) and per slot and reason ({@code jv_drops}).
 */
final class EngineStats {
    private final SharedMaps maps;

    EngineStats(SharedMaps maps) {
        this.maps = maps;
    }

    /** A port's counters; frames the control plane transmitted count as tx too. */
    PortStats port(LiveInstance li, int port) {
        List<byte[]> perCpu = maps.stats().lookupPerCpu(BpfMapKeys.u32(li.slot * Sdk.MAX_PORTS + port)).orElseThrow();
        long rxPackets = 0, rxBytes = 0, txPackets = li.userTxPackets.get(port), txBytes = li.userTxBytes.get(port);
        for (byte[] v : perCpu) {
            ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
            rxPackets += b.getLong(Sdk.PortStatsLayout.RX_PACKETS);
            rxBytes += b.getLong(Sdk.PortStatsLayout.RX_BYTES);
            txPackets += b.getLong(Sdk.PortStatsLayout.TX_PACKETS);
            txBytes += b.getLong(Sdk.PortStatsLayout.TX_BYTES);
        }
        return new PortStats(rxPackets, rxBytes, txPackets, txBytes);
    }

    /** Packets that fell through a failed tail call into the slot. */
    long missedTailCalls(int slot) {
        long total = 0;
        for (byte[] v : maps.missed().lookupPerCpu(BpfMapKeys.u32(slot)).orElseThrow()) {
            total += ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).getLong();
        }
        return total;
    }

    /** The slot's drops by reason name ({@link Sdk#dropReasonName}). */
    Map<String, Long> drops(int slot) {
        Map<String, Long> out = new TreeMap<>();
        for (BpfMap.Entry e : maps.drops().lookupBatch(256)) {
            ByteBuffer k = ByteBuffer.wrap(e.key()).order(ByteOrder.LITTLE_ENDIAN);
            if (k.getInt(Sdk.DropKeyLayout.SLOT) != slot) {
                continue;
            }
            long total = 0;
            ByteBuffer v = ByteBuffer.wrap(e.value()).order(ByteOrder.LITTLE_ENDIAN);
            for (int c = 0; c < Cpus.possible(); c++) {
                total += v.getLong(c * 8);
            }
            out.merge(Sdk.dropReasonName(k.getInt(Sdk.DropKeyLayout.REASON)), total, Long::sum);
        }
        return out;
    }
}
