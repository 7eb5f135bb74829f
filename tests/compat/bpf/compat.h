// What every object of the compat corpus includes: the way bcc's libbpf-tools start a BPF source
// (vmlinux.h from the running kernel, then libbpf's BPF-side headers). Debian's libbpf 1.1
// headers predate bpf_ksym_exists(), so it is defined here when missing, as libbpf documents it.
#pragma once

#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) (!!(sym))
#endif

#ifndef __hidden
#define __hidden __attribute__((visibility("hidden")))
#endif

#define TASK_COMM_LEN 16
