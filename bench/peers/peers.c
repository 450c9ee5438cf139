/* The peer baselines: what imcore's encrypt and decrypt
 * are compared with, measured in the same run under the same names scheme
 * (peer/<way>/{send,receive}/dev:<N>/body:<B>). */
#include "benches.h"

void imc_bench_register_peers(void)
{
#ifdef IMC_WITH_SODIUM
    imc_bench_register_peer_naive_sodium();
#endif
#ifdef IMC_WITH_OPENSSL
    imc_bench_register_peer_imessage2011();
#endif
}
