/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The jvisor module SDK for C data planes. The jvisor toolchain puts this
 * directory on the include path: #include <jvisor/jvisor.h>.
 *
 * This is the placeholder of the SDK; the module API (ports, metadata,
 * chaining) is added here by later releases.
 */
#ifndef JVISOR_JVISOR_H
#define JVISOR_JVISOR_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The SDK version: major * 10000 + minor * 100 + patch. */
#define JVISOR_SDK_VERSION 100

#endif /* JVISOR_JVISOR_H */
