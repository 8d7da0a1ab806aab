package io.jvisor.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.util.Set;

/**
 * The daemon's control socket on disk: its directory, its owner group and mode, and its removal.
 * Jetty binds the socket at {@link #bindPath()}, inside a private directory (0700) next to the final
 * path; {@link #publish()} then sets the group and mode and renames it into place. So no client ever
 * reaches a socket whose mode is still what the umask made it, and a stale socket left by a killed
 * daemon is replaced in one step. A live one is never replaced: {@link #prepare} refuses to start.
 */
final class ControlSocket implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlSocket.class);
    /** S_IFMT and S_IFSOCK of st_mode. */
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    /** Numbers the private directories of the daemons of this process (tests run several). */
    private static final java.util.concurrent.atomic.AtomicInteger BINDS = new java.util.concurrent.atomic.AtomicInteger();

    private final Path path;
    private final String groupName;
    private final Path privateDir;
    private Object fileKey;
    /** The mode and group it was published with, for the log and {@code daemon.json}. */
    private String mode = "";
    private String group;

    private ControlSocket(Path path, String groupName, Path privateDir) {
        this.path = path;
        this.groupName = groupName;
        this.privateDir = privateDir;
    }

    /** Thrown when another daemon answers on the socket path already. */
    static final class InUse extends IllegalStateException {
        InUse(String message) {
            super(message);
        }
    }

    /**
     * Makes the socket's directory (0750 and the group when the group exists, else 0700) unless it
     * exists, checks that no daemon answers at {@code path}, and makes the private directory to bind in.
     *
     * @throws InUse when a daemon answers there
     * @throws IllegalStateException when the path or its directory is unsafe or not a socket
     */
    static ControlSocket prepare(Path path, String groupName) {
        Path dir = path.getParent();
        GroupPrincipal group = group(groupName);
        try {
            if (!Files.isDirectory(dir)) {
                if (dir.getParent() != null) {
                    Files.createDirectories(dir.getParent());
                }
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                if (group != null && chgrp(dir, group)) {
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));
                }
                LOG.info("created the control socket's directory {} ({})", dir,
                        PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
            }
            Set<PosixFilePermission> dirMode = Files.getPosixFilePermissions(dir);
            int dirBits = (Integer) Files.getAttribute(dir, "unix:mode");
            if (dirMode.contains(PosixFilePermission.OTHERS_WRITE) && (dirBits & 01000) == 0) {
                throw new IllegalStateException("the control socket's directory " + dir + " is writable by every user "
                        + "(" + PosixFilePermissions.toString(dirMode) + ", no sticky bit): anyone could replace the "
                        + "socket; choose another path (--socket) or chmod o-w " + dir);
            }
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
                int m = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
                if ((m & S_IFMT) != S_IFSOCK) {
                    throw new IllegalStateException(path + " exists and is not a socket; remove it or choose another "
                            + "path (--socket)");
                }
                if (answers(path)) {
                    throw new InUse("a daemon already listens on " + path + " (stop it, or give this one another "
                            + "--socket)");
                }
                LOG.info("replacing the stale control socket {} (no process listens on it)", path);
            }
            Path priv = dir.resolve(".jvisord." + ProcessHandle.current().pid() + "." + BINDS.incrementAndGet());
            if (priv.resolve("s").toString().getBytes(StandardCharsets.UTF_8).length > DaemonOptions.MAX_SOCKET_PATH) {
                priv = null; // too long to bind in a private directory: bind in place, then set the mode at once
            } else {
                deleteTree(priv); // left by an earlier process with this pid
                Files.createDirectory(priv, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
            return new ControlSocket(path, groupName, priv);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare the control socket " + path + ": " + e.getMessage(), e);
        }
    }

    /** Whether something accepts connections on unix socket {@code p}. */
    static boolean answers(Path p) {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(p));
            return true;
        } catch (ConnectException | NoSuchFileException e) {
            return false; // ECONNREFUSED: a socket file nobody listens on
        } catch (IOException e) {
            return false;
        }
    }

    /** Where Jetty binds. */
    Path bindPath() {
        return privateDir == null ? path : privateDir.resolve("s");
    }

    /** The final path. */
    Path path() {
        return path;
    }

    /**
     * Sets the socket's group and mode (0660 with the group, 0600 without) and moves it to its path.
     * Logs who can use it.
     */
    void publish() {
        Path bound = bindPath();
        try {
            GroupPrincipal g = DaemonOptions.NO_GROUP.equals(groupName) ? null : group(groupName);
            if (g == null && DaemonOptions.NO_GROUP.equals(groupName)) {
                Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
                mode = "0600";
            } else if (g == null) {
                Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
                mode = "0600";
                LOG.warn("group '{}' does not exist: the control socket {} is root-only (0600). To let users use "
                        + "jvisor without sudo: groupadd --system {}; usermod -aG {} USER; then restart the daemon",
                        groupName, path, groupName, groupName);
            } else if (chgrp(bound, g)) {
                Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-rw----"));
                mode = "0660";
                group = groupName;
            } else {
                Files.setPosixFilePermissions(bound, PosixFilePermissions.fromString("rw-------"));
                mode = "0600";
                LOG.warn("cannot give the control socket {} to group '{}' (the daemon needs CAP_CHOWN or membership "
                        + "of the group): it is root-only (0600)", path, groupName);
            }
            if (privateDir != null) {
                Files.move(bound, path, StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces a stale socket
                Files.deleteIfExists(privateDir);
            }
            fileKey = Files.readAttributes(path, java.nio.file.attribute.BasicFileAttributes.class,
                    LinkOption.NOFOLLOW_LINKS).fileKey();
            if (group != null) {
                Path dir = path.getParent();
                Set<PosixFilePermission> dm = Files.getPosixFilePermissions(dir);
                boolean reachable = dm.contains(PosixFilePermission.OTHERS_EXECUTE)
                        || (dm.contains(PosixFilePermission.GROUP_EXECUTE) && Files.getFileAttributeView(dir,
                        PosixFileAttributeView.class).readAttributes().group().getName().equals(groupName));
                if (!reachable) {
                    LOG.warn("members of '{}' cannot reach the control socket: its directory {} is {} (they need x)",
                            groupName, dir, PosixFilePermissions.toString(dm));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot set up the control socket " + path + ": " + e.getMessage(), e);
        }
    }

    /** "0660, group jvisor" or "0600, root only". */
    String access() {
        return group != null ? mode + ", group " + group : mode + ", root only";
    }

    /** The mode it was published with, e.g. "0660". */
    String mode() {
        return mode;
    }

    /** The group that may use it, or null when it is root-only. */
    String group() {
        return group;
    }

    /** Removes the socket (if it is still the one this daemon made) and the private directory. */
    @Override
    public void close() {
        try {
            if (fileKey != null && Files.exists(path, LinkOption.NOFOLLOW_LINKS) && fileKey.equals(Files.readAttributes(
                    path, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey())) {
                Files.deleteIfExists(path);
            }
            if (privateDir != null) {
                deleteTree(privateDir);
            }
        } catch (IOException e) {
            LOG.warn("cannot remove the control socket {}: {}", path, e.getMessage());
        }
    }

    private static GroupPrincipal group(String name) {
        try {
            return FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(name);
        } catch (UserPrincipalNotFoundException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot look up group " + name, e);
        }
    }

    /** Gives {@code p} to group {@code g}; false when the kernel refuses (EPERM). */
    private static boolean chgrp(Path p, GroupPrincipal g) throws IOException {
        try {
            Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS).setGroup(g);
            return true;
        } catch (java.nio.file.FileSystemException e) {
            if (e instanceof java.nio.file.AccessDeniedException || String.valueOf(e.getReason()).contains("not permitted")) {
                return false;
            }
            throw e;
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            try (var s = Files.list(p)) {
                for (Path c : s.toList()) {
                    deleteTree(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }
}
