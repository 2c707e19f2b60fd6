/*
 * fuzz_delta_dv.c — libFuzzer target for the deletion vector decoder: the
 * input as a serialized bitmap, as inline Z85 text (and Z85-encoded), and
 * as a DV file whose offset and sizeInBytes are its first 8 bytes
 * (big-endian), all through the code lks_delta_dv_load uses
 * (fuzz/delta_exercise.h).
 *
 *   make fuzz
 *   build/fuzz/fuzz_delta_dv -malloc_limit_mb=512 -max_len=65536 CORPUS_DIR fuzz/seeds_delta_dv
 *
 * Crashes found are kept, minimised, in fuzz/crashes_delta/ (dv-*) and
 * replayed by tests/unit/test_delta_hostile.c.
 */
#include "delta_exercise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lks_dfuzz_dv(data, size);
    return 0;
}
