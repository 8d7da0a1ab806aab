/**
 * Consuming BPF ring buffers ({@code BPF_MAP_TYPE_RINGBUF}) from Java through shared memory:
 * {@link io.jvisor.bpf.ringbuf.RingBufReader} maps the ring, waits on it with epoll and hands each
 * record to a {@link io.jvisor.bpf.ringbuf.RecordHandler} or
 * {@link io.jvisor.bpf.ringbuf.RawRecordHandler} without copying it.
 */
package io.jvisor.bpf.ringbuf;
