/* imcore benchmarks: one registration function per group, each in its own
 * file. bench_main.c calls them all before running. */
#ifndef IMC_BENCHES_H
#define IMC_BENCHES_H

/* shim/...: the C loop's own cost next to a native google-benchmark loop. */
void imc_bench_register_overhead(void);

/* prim/<backend>/<primitive>[/<size>]: the primitive floor per backend. */
void imc_bench_register_primitives(void);

/* dir/...: directory lookups at 1 M and 10 M handles per store,
 * registration, and verifying signed answers on the client. */
void imc_bench_register_dir(void);

#endif
