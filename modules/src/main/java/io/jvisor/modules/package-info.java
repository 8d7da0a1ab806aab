/**
 * The standard IO modules: each a C data plane written against {@code jvisor/module.h} plus a Java
 * control plane, found by the engine through {@link java.util.ServiceLoader}.
 */
package io.jvisor.modules;
