package io.jvisor.bpf.link;

import io.jvisor.bpf.BpfProgram;

/**
 * Where a tcx program goes in a device's chain (the kernel's mprog ordering: BPF_F_BEFORE and
 * BPF_F_AFTER, relative to a program or a link).
 */
public sealed interface Anchor {
    /** At the end of the chain (the default). */
    record Last() implements Anchor {}

    /** At the head of the chain. */
    record First() implements Anchor {}

    /** Just before a program that is already attached. */
    record BeforeProgram(BpfProgram program) implements Anchor {}

    /** Just after a program that is already attached. */
    record AfterProgram(BpfProgram program) implements Anchor {}

    /** Just before a link that is already attached. */
    record BeforeLink(BpfLink link) implements Anchor {}

    /** Just after a link that is already attached. */
    record AfterLink(BpfLink link) implements Anchor {}

    /** At the end. */
    static Anchor last() {
        return new Last();
    }

    /** At the head. */
    static Anchor first() {
        return new First();
    }

    /** Before {@code p}. */
    static Anchor before(BpfProgram p) {
        return new BeforeProgram(p);
    }

    /** After {@code p}. */
    static Anchor after(BpfProgram p) {
        return new AfterProgram(p);
    }

    /** Before {@code l}. */
    static Anchor before(BpfLink l) {
        return new BeforeLink(l);
    }

    /** After {@code l}. */
    static Anchor after(BpfLink l) {
        return new AfterLink(l);
    }
}
