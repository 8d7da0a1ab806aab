/**
 * Internal: libc bindings and the netlink wire format. Not a public API; it may change at any time.
 */
package io.jvisor.net.sys;
