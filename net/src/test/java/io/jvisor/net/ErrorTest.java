package io.jvisor.net;

import io.jvisor.bpf.testing.Names;
import io.jvisor.bpf.testing.RequiresRoot;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Refusals carry the errno, the operation, the device and the kernel's own words. */
@RequiresRoot
class ErrorTest {
    private Netns ns;
    private Rtnl rtnl;

    @BeforeEach
    void setUp() {
        ns = Netns.create(Names.unique("jte"));
        rtnl = Rtnl.open(ns);
    }

    @AfterEach
    void tearDown() {
        try {
            rtnl.close();
        } finally {
            ns.close();
        }
    }

    @Test
    void duplicateDevice() {
        rtnl.createVeth("dup0", "dup1");
        NetlinkException e = catchThrowableOfType(NetlinkException.class, () -> rtnl.createBridge("dup0"));
        assertThat(e.errno()).isEqualTo(17); // EEXIST
        assertThat(e.device()).isEqualTo("dup0");
        assertThat(e.operation()).contains("create bridge");
        assertThat(e.getMessage()).contains("'dup0'").contains("EEXIST").contains("File exists");
        System.out.println("duplicate device: " + e.getMessage());

        NetlinkException v = catchThrowableOfType(NetlinkException.class, () -> rtnl.createVeth("dup0", "fresh0"));
        assertThat(v.device()).isEqualTo("dup0");
        assertThat(v.getMessage()).contains("create veth").contains("'dup0' (peer 'fresh0'): EEXIST");
        assertThat(rtnl.findLink("fresh0")).isEmpty();
    }

    @Test
    void nameLongerThan15Bytes() {
        String name = "abcdefghijklmnop"; // 16 bytes
        NetlinkException e = catchThrowableOfType(NetlinkException.class, () -> rtnl.createBridge(name));
        assertThat(e.device()).isEqualTo(name);
        assertThat(e.kernelMessage()).as("the kernel explains the refusal").isPresent();
        assertThat(e.getMessage()).contains(name).contains("kernel says: " + e.kernelMessage().orElseThrow());
        System.out.println("long name: " + e.getMessage());
        assertThat(rtnl.findLink(name)).isEmpty();
    }

    @Test
    void operationsOnMissingDevice() {
        NetlinkException e = catchThrowableOfType(NetlinkException.class, () -> rtnl.setUp("nosuch0"));
        assertThat(e.errno()).isEqualTo(19); // ENODEV
        assertThat(e.getMessage()).contains("set up").contains("'nosuch0'").contains("ENODEV");
        assertThat(rtnl.findLink("nosuch0")).isEmpty();
    }

    @Test
    void namespaceThatDoesNotExist() {
        String name = Names.unique("jtnone");
        NetnsException e = catchThrowableOfType(NetnsException.class, () -> Netns.open(name));
        assertThat(e.errno()).isEqualTo(2); // ENOENT
        assertThat(e.namespace()).isEqualTo(name);
        assertThat(e.getMessage()).contains(name).contains("ENOENT");
        assertThatThrownBy(() -> Netns.delete(name)).isInstanceOf(NetnsException.class).hasMessageContaining("ENOENT");
        System.out.println("missing namespace: " + e.getMessage());
    }

    @Test
    void duplicateNamespace() {
        NetnsException e = catchThrowableOfType(NetnsException.class, () -> Netns.create(ns.name()));
        assertThat(e.errno()).isEqualTo(17);
        assertThat(e.getMessage()).contains(ns.name()).contains("exists");
        assertThat(Netns.exists(ns.name())).as("the existing namespace survives").isTrue();
    }

    @Test
    void deviceMovedIntoNamespaceThatHasGoneAway() {
        rtnl.createVeth("mv0", "mv1");
        Netns gone = Netns.create(Names.unique("jtg"));
        gone.delete();
        NetnsException e = catchThrowableOfType(NetnsException.class, () -> rtnl.moveToNamespace("mv0", gone));
        assertThat(e.errno()).isEqualTo(2);
        assertThat(e.getMessage()).contains("mv0").contains(gone.name()).contains("deleted");
        System.out.println("deleted namespace: " + e.getMessage());

        // Deleted behind our back by iproute2, while our handle still holds it alive.
        Netns other = Netns.create(Names.unique("jtg"));
        try {
            Ip.ip("netns", "del", other.name());
            NetnsException e2 = catchThrowableOfType(NetnsException.class, () -> rtnl.moveToNamespace("mv0", other));
            assertThat(e2.getMessage()).contains("mv0").contains(other.name()).contains("gone away");
            NetnsException e3 = catchThrowableOfType(NetnsException.class,
                    () -> rtnl.createVeth(VethSpec.of("mv2", "mv3").withPeerNamespace(other)));
            assertThat(e3.getMessage()).contains("mv3").contains("gone away");
            System.out.println("namespace gone away: " + e2.getMessage());
        } finally {
            other.close();
        }
        assertThat(rtnl.findLink("mv0")).as("the device stays where it was").isPresent();
        assertThat(rtnl.findLink("mv2")).isEmpty();
    }
}
