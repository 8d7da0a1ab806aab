package io.jvisor.net.sys;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Writes one netlink request: the 16-byte nlmsghdr, a fixed family header (ifinfomsg, rtmsg, ...)
 * written field by field, then attributes (struct rtattr: u16 length, u16 type, value, padded to
 * 4 bytes). All numbers are in host byte order except where a method says otherwise.
 */
public final class MessageBuilder {
    private final ByteBuffer b;
    private final int seq;

    MessageBuilder(ByteBuffer buffer, int type, int flags, int seq) {
        this.b = buffer;
        this.seq = seq;
        b.clear();
        b.putInt(0); // nlmsg_len, patched by finish()
        b.putShort((short) type);
        b.putShort((short) flags);
        b.putInt(seq);
        b.putInt(0); // nlmsg_pid: 0, the kernel fills in our port id
    }

    /** The sequence number this request carries. */
    public int seq() {
        return seq;
    }

    /** Appends a u8 to the family header. */
    public MessageBuilder u8(int v) {
        b.put((byte) v);
        return this;
    }

    /** Appends a u16 to the family header. */
    public MessageBuilder u16(int v) {
        b.putShort((short) v);
        return this;
    }

    /** Appends a u32 to the family header. */
    public MessageBuilder u32(int v) {
        b.putInt(v);
        return this;
    }

    /** Adds an attribute with raw bytes. */
    public MessageBuilder attr(int type, byte[] value) {
        header(type, value.length);
        b.put(value);
        return align();
    }

    /** Adds a u8 attribute. */
    public MessageBuilder attrU8(int type, int v) {
        header(type, 1);
        b.put((byte) v);
        return align();
    }

    /** Adds a u16 attribute in host order. */
    public MessageBuilder attrU16(int type, int v) {
        header(type, 2);
        b.putShort((short) v);
        return align();
    }

    /** Adds a u16 attribute in network byte order (ports). */
    public MessageBuilder attrU16Be(int type, int v) {
        header(type, 2);
        b.put((byte) (v >>> 8)).put((byte) v);
        return align();
    }

    /** Adds a u32 attribute in host order. */
    public MessageBuilder attrU32(int type, int v) {
        header(type, 4);
        b.putInt(v);
        return align();
    }

    /** Adds a NUL-terminated string attribute. */
    public MessageBuilder attrString(int type, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        header(type, bytes.length + 1);
        b.put(bytes).put((byte) 0);
        return align();
    }

    /** Opens a nested attribute; close it with {@link #end(int)} and the returned mark. */
    public int nest(int type) {
        int start = b.position();
        header(type, 0);
        return start;
    }

    /** Closes the nested attribute opened at {@code mark}. */
    public MessageBuilder end(int mark) {
        b.putShort(mark, (short) (b.position() - mark));
        return this;
    }

    /** Patches nlmsg_len and returns the message length. */
    int finish() {
        int len = b.position();
        b.putInt(0, len);
        return len;
    }

    private void header(int type, int valueLen) {
        b.putShort((short) (4 + valueLen));
        b.putShort((short) type);
    }

    private MessageBuilder align() {
        while ((b.position() & 3) != 0) {
            b.put((byte) 0);
        }
        return this;
    }
}
