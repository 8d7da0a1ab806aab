// SPDX-License-Identifier: Apache-2.0
/*
 * The C peer of io.jvisor.bench.MapOpsBench: the same hash-map operations, in
 * the same loops, through libbpf. What a user who does not pick jvisor would
 * write.
 *
 * Map: BPF_MAP_TYPE_HASH, 4-byte key, 8-byte value, --entries entries (a power
 * of two), prefilled with keys 0..entries-1.
 *
 * Operations (each timed for --measure-ms after --warmup-ms of the same loop):
 *   lookup        bpf_map_lookup_elem, key i = (i + 1) % entries (always a hit)
 *   update        bpf_map_update_elem(BPF_ANY), same keys, value = key
 *   update_batch  bpf_map_update_batch over the whole map, --batch keys a call
 *   lookup_batch  bpf_map_lookup_batch walk of the whole map, --batch a call
 * Batch operations are reported per element.
 *
 * Output, one line per operation, for CompareMapOps to parse:
 *   result op=<name> batch=<n> ns_per_op=<float> ops=<count> user_ns_per_op=<float> sys_ns_per_op=<float>
 * ns_per_op is wall-clock time (CLOCK_MONOTONIC); user and sys are the process's CPU time
 * (getrusage), which tells the kernel's share from the caller's.
 * Lines starting with '#' are comments. Exit status 0 on success.
 *
 * Build: gcc -O2 -Wall -o map_ops map_ops.c -lbpf   (needs root to run)
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH_SIZES 8

static int map_fd;
static uint32_t entries = 1u << 16;
static uint32_t *all_keys;   /* keys 0..entries-1 */
static uint64_t *all_values; /* values equal to the keys */
static uint32_t *out_keys;   /* lookup_batch output */
static uint64_t *out_values;
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "map_ops: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* One unit of work; returns how many operations (elements) it did. */
typedef uint64_t (*unit_fn)(uint32_t batch);

static uint32_t next_key;

static uint64_t unit_lookup(uint32_t batch)
{
	uint32_t key;
	uint64_t value;
	int err;

	(void)batch;
	key = next_key = (next_key + 1) & (entries - 1);
	err = bpf_map_lookup_elem(map_fd, &key, &value);
	if (err)
		die("bpf_map_lookup_elem", err);
	sink += value;
	return 1;
}

static uint64_t unit_update(uint32_t batch)
{
	uint32_t key;
	uint64_t value;
	int err;

	(void)batch;
	key = next_key = (next_key + 1) & (entries - 1);
	value = key;
	err = bpf_map_update_elem(map_fd, &key, &value, BPF_ANY);
	if (err)
		die("bpf_map_update_elem", err);
	return 1;
}

/* A whole-map pass of BPF_MAP_UPDATE_BATCH, batch keys per call. */
static uint64_t unit_update_batch(uint32_t batch)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	uint32_t off, count;
	int err;

	for (off = 0; off < entries; off += batch) {
		count = batch;
		err = bpf_map_update_batch(map_fd, all_keys + off, all_values + off, &count, &opts);
		if (err)
			die("bpf_map_update_batch", err);
	}
	return entries;
}

/* A whole-map walk of BPF_MAP_LOOKUP_BATCH, up to batch entries per call. */
static uint64_t unit_lookup_batch(uint32_t batch)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	uint64_t in_token = 0, out_token = 0, total = 0;
	uint32_t count;
	int first = 1, err;

	for (;;) {
		count = batch;
		err = bpf_map_lookup_batch(map_fd, first ? NULL : &in_token, &out_token, out_keys, out_values,
					   &count, &opts);
		if (err && err != -ENOENT)
			die("bpf_map_lookup_batch", err);
		total += count;
		if (err == -ENOENT)
			break; /* the walk is complete */
		in_token = out_token;
		first = 0;
	}
	if (total != entries) {
		fprintf(stderr, "map_ops: lookup_batch walked %llu entries, expected %u\n",
			(unsigned long long)total, entries);
		exit(1);
	}
	sink += out_values[0];
	return total;
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000ull;
}

struct sample {
	uint64_t ops;
	double ns, user_ns, sys_ns; /* per operation */
};

/* Runs fn for ms milliseconds. */
static struct sample run_for(unit_fn fn, uint32_t batch, uint64_t ms)
{
	/* Single operations read the clock every 256 units, whole-map passes every unit. */
	const uint64_t check_mask = batch > 1 ? 0 : 255;
	uint64_t ops = 0, units = 0, start, end, deadline;
	struct rusage ru0, ru1;
	struct sample s;

	getrusage(RUSAGE_SELF, &ru0);
	start = now_ns();
	deadline = start + ms * 1000000ull;
	end = start;
	for (;;) {
		ops += fn(batch);
		if ((++units & check_mask) == 0) {
			end = now_ns();
			if (end >= deadline)
				break;
		}
	}
	getrusage(RUSAGE_SELF, &ru1);
	s.ops = ops;
	s.ns = (double)(end - start) / (double)ops;
	s.user_ns = (double)(tv_ns(ru1.ru_utime) - tv_ns(ru0.ru_utime)) / (double)ops;
	s.sys_ns = (double)(tv_ns(ru1.ru_stime) - tv_ns(ru0.ru_stime)) / (double)ops;
	return s;
}

static void measure(const char *name, unit_fn fn, uint32_t batch, uint64_t warmup_ms, uint64_t measure_ms)
{
	struct sample s;

	next_key = 0;
	if (warmup_ms)
		run_for(fn, batch, warmup_ms);
	s = run_for(fn, batch, measure_ms);
	printf("result op=%s batch=%u ns_per_op=%.3f ops=%llu user_ns_per_op=%.3f sys_ns_per_op=%.3f\n", name, batch,
	       s.ns, (unsigned long long)s.ops, s.user_ns, s.sys_ns);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: map_ops [--entries N] [--batch N]... [--warmup-ms N] [--measure-ms N] [--ops LIST]\n"
		"  --entries N     map size, a power of two (default 65536)\n"
		"  --batch N       batch size; repeat for several (default 256 and 1024)\n"
		"  --warmup-ms N   untimed run of each loop first (default 1000)\n"
		"  --measure-ms N  timed run of each loop (default 3000)\n"
		"  --ops LIST      comma-separated subset of lookup,update,update_batch,lookup_batch\n");
}

static int wanted(const char *ops, const char *name)
{
	size_t n = strlen(name);
	const char *p = ops;

	if (!ops)
		return 1;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == ops || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return 1;
		p += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "entries", required_argument, NULL, 'e' },
		{ "batch", required_argument, NULL, 'b' },
		{ "warmup-ms", required_argument, NULL, 'w' },
		{ "measure-ms", required_argument, NULL, 'm' },
		{ "ops", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t batches[MAX_BATCH_SIZES] = { 256, 1024 };
	int nbatches = 2, user_batches = 0, c, i;
	uint64_t warmup_ms = 1000, measure_ms = 3000;
	const char *ops = NULL;
	uint32_t count, max_batch = 0;
	int err;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			entries = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			if (!user_batches)
				nbatches = 0;
			user_batches = 1;
			if (nbatches == MAX_BATCH_SIZES) {
				fprintf(stderr, "map_ops: at most %d batch sizes\n", MAX_BATCH_SIZES);
				return 2;
			}
			batches[nbatches++] = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'w':
			warmup_ms = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			measure_ms = strtoull(optarg, NULL, 0);
			break;
		case 'o':
			ops = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (entries < 2 || (entries & (entries - 1)) || measure_ms == 0) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < nbatches; i++) {
		if (batches[i] == 0 || entries % batches[i]) {
			fprintf(stderr, "map_ops: batch %u must divide entries %u\n", batches[i], entries);
			return 2;
		}
		if (batches[i] > max_batch)
			max_batch = batches[i];
	}

	all_keys = calloc(entries, sizeof(*all_keys));
	all_values = calloc(entries, sizeof(*all_values));
	out_keys = calloc(max_batch, sizeof(*out_keys));
	out_values = calloc(max_batch, sizeof(*out_values));
	if (!all_keys || !all_values || !out_keys || !out_values)
		die("calloc", ENOMEM);
	for (i = 0; i < (int)entries; i++) {
		all_keys[i] = (uint32_t)i;
		all_values[i] = (uint64_t)i;
	}

	map_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "jvbench_c", sizeof(uint32_t), sizeof(uint64_t), entries,
				NULL);
	if (map_fd < 0)
		die("bpf_map_create", map_fd);
	count = entries;
	err = bpf_map_update_batch(map_fd, all_keys, all_values, &count, NULL);
	if (err)
		die("prefill bpf_map_update_batch", err);

	printf("# libbpf %u.%u, hash map key 4 value 8 entries %u, warmup %llu ms, measure %llu ms\n",
	       libbpf_major_version(), libbpf_minor_version(), entries, (unsigned long long)warmup_ms,
	       (unsigned long long)measure_ms);
	if (wanted(ops, "lookup"))
		measure("lookup", unit_lookup, 1, warmup_ms, measure_ms);
	if (wanted(ops, "update"))
		measure("update", unit_update, 1, warmup_ms, measure_ms);
	for (i = 0; i < nbatches; i++) {
		if (wanted(ops, "update_batch"))
			measure("update_batch", unit_update_batch, batches[i], warmup_ms, measure_ms);
		if (wanted(ops, "lookup_batch"))
			measure("lookup_batch", unit_lookup_batch, batches[i], warmup_ms, measure_ms);
	}
	close(map_fd);
	return 0;
}
